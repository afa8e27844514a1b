import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeVarint, encodeVarint, MAX_VARINT, varintLength, writeVarint } from '../src/index.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What decodeVarint promises to return for a value: a number when safe, else a bigint. */
function expected(v: number | bigint): number | bigint {
  return BigInt(v) <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : BigInt(v);
}

test('RFC 9000 §A.1 sample decodings', () => {
  const cases: [string, number | bigint, number][] = [
    ['c2197c5eff14e88c', 151288809941952652n, 8],
    ['9d7f3e7d', 494878333, 4],
    ['7bbd', 15293, 2],
    ['25', 37, 1],
    ['4025', 37, 2], // non-minimal, which RFC 9000 §16 allows
  ];
  for (const [bytes, value, bytesRead] of cases) {
    assert.deepEqual(decodeVarint(hex(bytes)), { ok: true, value, bytesRead }, bytes);
  }
  // The minimal encodings round-trip to the same bytes.
  assert.equal(toHex(encodeVarint(151288809941952652n)), 'c2197c5eff14e88c');
  assert.equal(toHex(encodeVarint(494878333)), '9d7f3e7d');
  assert.equal(toHex(encodeVarint(15293)), '7bbd');
  assert.equal(toHex(encodeVarint(37)), '25');
});

test('non-minimal encodings decode to the same value', () => {
  for (const bytes of ['25', '4025', '80000025', 'c000000000000025']) {
    const r = decodeVarint(hex(bytes));
    assert.ok(r.ok);
    assert.equal(r.value, 37);
    assert.equal(r.bytesRead, bytes.length / 2);
  }
});

test('boundaries: lengths, number/bigint switch and range', () => {
  const cases: [number | bigint, number][] = [
    [0, 1],
    [63, 1],
    [64, 2],
    [16383, 2],
    [16384, 4],
    [2 ** 30 - 1, 4],
    [2 ** 30, 8],
    [Number.MAX_SAFE_INTEGER, 8],
    [2n ** 53n, 8],
    [MAX_VARINT, 8],
  ];
  for (const [v, len] of cases) {
    assert.equal(varintLength(v), len, String(v));
    const bytes = encodeVarint(v);
    assert.equal(bytes.length, len, String(v));
    assert.deepEqual(decodeVarint(bytes), { ok: true, value: expected(v), bytesRead: len });
  }
  assert.equal(
    typeof (decodeVarint(encodeVarint(Number.MAX_SAFE_INTEGER)) as { value: unknown }).value,
    'number',
  );
  assert.equal(
    typeof (decodeVarint(encodeVarint(2n ** 53n)) as { value: unknown }).value,
    'bigint',
  );
  // A small bigint is encoded minimally too.
  assert.equal(toHex(encodeVarint(37n)), '25');
  assert.equal(varintLength(16384n), 4);
});

test('out-of-range and unsafe values are RangeErrors', () => {
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53, 2 ** 62, -1n, 2n ** 62n]) {
    assert.throws(() => encodeVarint(bad), RangeError, String(bad));
    assert.throws(() => varintLength(bad), RangeError, String(bad));
  }
  assert.throws(() => writeVarint(new Uint8Array(1), 0, 64), RangeError);
});

test('every strict prefix is incomplete; offsets are honoured', () => {
  for (const v of [0, 63, 64, 16383, 16384, 2 ** 30, 2n ** 61n]) {
    const bytes = encodeVarint(v);
    for (let k = 0; k < bytes.length; k++) {
      assert.deepEqual(decodeVarint(bytes.subarray(0, k)), { ok: false, incomplete: true });
    }
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    assert.deepEqual(decodeVarint(padded, 3), {
      ok: true,
      value: expected(v),
      bytesRead: bytes.length,
    });
    assert.deepEqual(decodeVarint(padded, padded.length), { ok: false, incomplete: true });
  }
});

test('round trip over 0..2^53-1 as numbers', () => {
  fc.assert(
    fc.property(fc.oneof(fc.maxSafeNat(), fc.integer({ min: 0, max: 2 ** 31 })), (v) => {
      const bytes = encodeVarint(v);
      assert.equal(bytes.length, varintLength(v));
      assert.deepEqual(decodeVarint(bytes), { ok: true, value: v, bytesRead: bytes.length });
    }),
    { numRuns: 2000 },
  );
});

test('round trip over 0..2^62-1 as bigints', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: MAX_VARINT }), (v) => {
      const bytes = encodeVarint(v);
      assert.deepEqual(decodeVarint(bytes), {
        ok: true,
        value: expected(v),
        bytesRead: bytes.length,
      });
    }),
    { numRuns: 2000 },
  );
});

test('decodeVarint never throws on random bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), fc.nat(12), (bytes, offset) => {
      const r = decodeVarint(bytes, offset);
      if (r.ok) assert.ok(offset + r.bytesRead <= bytes.length);
    }),
  );
});
