import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateKey } from '@nats-io/kv/internal';
import { isKvSafeKey, KEY_ID_PREFIX_BYTES, spentTokenKey } from '../src/index.ts';

const keyId = fc.uint8Array({ minLength: 1, maxLength: 48 });
const nonce = fc.uint8Array({ minLength: 1, maxLength: 64 });

describe('spentTokenKey', () => {
  it('is hex of the key id prefix, a dot, and the unpadded base64url nonce', () => {
    const id = Uint8Array.from({ length: 32 }, (_, i) => i);
    const n = Uint8Array.from([0xfb, 0xff, 0xfe, 0x00]);
    assert.equal(spentTokenKey(id, n), '000102030405060708090a0b0c0d0e0f.-__-AA');
  });

  it('reads a Buffer slice at its own offset', () => {
    const backing = Buffer.from('ffff0102ffff0304ffff', 'hex');
    assert.equal(spentTokenKey(backing.subarray(2, 4), backing.subarray(6, 8)), '0102.AwQ');
  });

  it('is a valid NATS KV key for any input (fast-check)', () => {
    fc.assert(
      fc.property(keyId, nonce, (k, n) => {
        const key = spentTokenKey(k, n);
        assert.ok(isKvSafeKey(key), key);
        validateKey(key); // the client library's own rule; throws on an invalid key
        assert.match(key, /^[0-9a-f]+\.[A-Za-z0-9_-]+$/);
        assert.equal(key.split('.').length, 2, 'two subject tokens, no wildcard');
      }),
      { numRuns: 2_000 },
    );
  });

  it('is distinct for distinct (key id prefix, nonce) (fast-check)', () => {
    const prefix = (k: Uint8Array): string =>
      Buffer.from(k.subarray(0, KEY_ID_PREFIX_BYTES)).toString('hex');
    fc.assert(
      fc.property(keyId, nonce, keyId, nonce, (k1, n1, k2, n2) => {
        const same = prefix(k1) === prefix(k2) && Buffer.from(n1).equals(Buffer.from(n2));
        assert.equal(spentTokenKey(k1, n1) === spentTokenKey(k2, n2), same);
      }),
      { numRuns: 2_000 },
    );
    // Nonces that differ only in length (a zero byte more) still differ.
    fc.assert(
      fc.property(keyId, nonce, (k, n) => {
        const longer = Uint8Array.from([...n, 0]);
        assert.notEqual(spentTokenKey(k, n), spentTokenKey(k, longer));
      }),
    );
  });

  it('uses only the first 16 bytes of the key id', () => {
    const n = new Uint8Array(32).fill(7);
    const id = new Uint8Array(32).fill(1);
    const sameStart = Uint8Array.from(id).fill(2, KEY_ID_PREFIX_BYTES);
    assert.equal(spentTokenKey(id, n), spentTokenKey(sameStart, n));
    assert.equal(spentTokenKey(id, n).split('.')[0], '01'.repeat(KEY_ID_PREFIX_BYTES));
  });

  it('refuses empty parts (they would make an empty subject token)', () => {
    assert.throws(() => spentTokenKey(new Uint8Array(0), new Uint8Array(32)), TypeError);
    assert.throws(() => spentTokenKey(new Uint8Array(32), new Uint8Array(0)), TypeError);
  });

  it('isKvSafeKey refuses wildcards, spaces and empty tokens', () => {
    for (const bad of ['', 'a.*', 'a.>', 'a b', '.a', 'a.', 'a..b', 'ä', 'a\nb']) {
      assert.equal(isKvSafeKey(bad), false, JSON.stringify(bad));
    }
  });
});
