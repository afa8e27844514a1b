import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HpkeError, type HpkeErrorReason, type Rng } from '../src/index.ts';

export const hex = (s: string): Uint8Array =>
  new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function readVectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

export interface VectorEncryption {
  seq: number;
  aad: string;
  nonce: string;
  pt: string;
  ct: string;
}
export interface VectorExport {
  context: string;
  L: number;
  value: string;
}
export interface HpkeVector {
  section: string;
  mode: number;
  kem_id: number;
  kdf_id: number;
  aead_id: number;
  info: string;
  ikmE: string;
  skEm?: string;
  pkEm?: string;
  ikmR: string;
  skRm: string;
  pkRm: string;
  psk?: string;
  psk_id?: string;
  enc: string;
  encryptions: VectorEncryption[];
  exports: VectorExport[];
}

/** An rng that hands out `values` in order and fails loudly when asked for more. */
export function scriptedRng(values: Uint8Array[]): Rng & { remaining(): number } {
  const queue = [...values];
  const rng = ((length: number) => {
    const next = queue.shift();
    assert.ok(next !== undefined, 'more randomness drawn than scripted');
    assert.equal(next.length, length, 'randomness drawn with an unexpected length');
    return next.slice();
  }) as Rng & { remaining(): number };
  rng.remaining = () => queue.length;
  return rng;
}

export async function rejectsReason(p: Promise<unknown>, reason: HpkeErrorReason): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HpkeError, `expected HpkeError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    return true;
  });
}
