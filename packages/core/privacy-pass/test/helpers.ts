import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mock } from 'node:test';
import { PrivacyPassError, type PrivacyPassErrorReason } from '../src/index.ts';

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function readVectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/** Asserts `fn` throws a PrivacyPassError with `reason`. */
export function throwsReason(fn: () => unknown, reason: PrivacyPassErrorReason): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PrivacyPassError, `expected PrivacyPassError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    return true;
  });
}

export async function rejectsReason(
  promise: Promise<unknown>,
  reason: PrivacyPassErrorReason,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof PrivacyPassError, `expected PrivacyPassError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    return true;
  });
}

/** Runs `fn`; anything it throws must be a PrivacyPassError. */
export function onlyPrivacyPassErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PrivacyPassError, `unexpected ${String(err)}`);
  }
}

/**
 * Makes globalThis.crypto.getRandomValues hand out `values` in order (as the
 * @cloudflare/privacypass-ts tests do), and returns a restore function. It fails loudly if
 * asked for more values than given or for a different length.
 */
export function scriptRandomness(values: Uint8Array[]): () => void {
  const queue = [...values];
  const m = mock.method(
    globalThis.crypto,
    'getRandomValues',
    <T extends ArrayBufferView | null>(array: T): T => {
      const next = queue.shift();
      assert.ok(next !== undefined, 'more randomness drawn than the vector supplies');
      const view = array as unknown as Uint8Array;
      assert.equal(view.length, next.length, 'randomness drawn with an unexpected length');
      view.set(next);
      return array;
    },
  );
  return () => {
    m.mock.restore();
    assert.equal(queue.length, 0, 'not all scripted randomness was drawn');
  };
}

/** An RSASSA-PSS key pair. @types/node types `saltLength` as a string; Node wants a number. */
export function rsaPssKeyPair(
  bits = 2048,
  hash = 'sha384',
  saltLength = 48,
): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('rsa-pss', {
    modulusLength: bits,
    hashAlgorithm: hash,
    mgf1HashAlgorithm: hash,
    saltLength: saltLength as unknown as string,
  });
}
