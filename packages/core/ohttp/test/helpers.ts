import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Rng } from '@splitrelay/hpke';
import { OhttpError, type OhttpErrorReason } from '../src/index.ts';

export const hex = (s: string): Uint8Array =>
  new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function readVectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Splits `bytes` at the given cut points (taken modulo its length). */
export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

export function scriptedRng(values: Uint8Array[]): Rng {
  const queue = [...values];
  return (length: number) => {
    const next = queue.shift();
    assert.ok(next !== undefined, 'more randomness drawn than scripted');
    assert.equal(next.length, length);
    return next.slice();
  };
}

export function isReason(reason: OhttpErrorReason) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof OhttpError, `expected OhttpError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.equal(err.status, 400);
    return true;
  };
}

export async function onlyOhttpErrors(fn: () => Promise<unknown>): Promise<'ok' | 'error'> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof OhttpError, `unexpected ${String(err)}`);
    return 'error';
  }
}
