/** The batch framing codec: round trips, strict prefixes, bounds, and no other error. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PrivacyPassError, decodeTokenBatch, encodeTokenBatch } from '../src/index.ts';

const item = fc.uint8Array({ minLength: 1, maxLength: 300 });

test('encode then decode gives the items back (fast-check)', () => {
  fc.assert(
    fc.property(fc.array(item, { minLength: 1, maxLength: 20 }), (items) => {
      const decoded = decodeTokenBatch(encodeTokenBatch(items), 20);
      assert.deepEqual(
        decoded.map((d) => [...d]),
        items.map((i) => [...i]),
      );
    }),
  );
});

test('the framing is uint16 length || bytes, back to back', () => {
  const body = encodeTokenBatch([new Uint8Array([1, 2, 3]), new Uint8Array([9])]);
  assert.deepEqual([...body], [0, 3, 1, 2, 3, 0, 1, 9]);
});

test('every strict prefix is refused as malformed or decodes to fewer whole items', () => {
  fc.assert(
    fc.property(fc.array(item, { minLength: 1, maxLength: 6 }), (items) => {
      const body = encodeTokenBatch(items);
      const boundaries = new Set<number>();
      let at = 0;
      for (const i of items) boundaries.add((at += 2 + i.length));
      for (let n = 1; n < body.length; n++) {
        if (boundaries.has(n)) {
          assert.ok(decodeTokenBatch(body.subarray(0, n), 6).length < items.length);
        } else {
          assert.throws(
            () => decodeTokenBatch(body.subarray(0, n), 6),
            (err) => err instanceof PrivacyPassError && err.reason === 'malformed',
          );
        }
      }
    }),
  );
});

test('empty bodies, empty items and too many items are refused with their reason', () => {
  const reason = (body: Uint8Array, max = 4): string | undefined => {
    try {
      decodeTokenBatch(body, max);
      return undefined;
    } catch (err) {
      assert.ok(err instanceof PrivacyPassError);
      return err.reason;
    }
  };
  assert.equal(reason(new Uint8Array()), 'malformed');
  assert.equal(reason(new Uint8Array([0, 0])), 'malformed');
  assert.equal(reason(new Uint8Array([0, 1, 7, 0, 0])), 'malformed');
  const five = encodeTokenBatch(Array.from({ length: 5 }, () => new Uint8Array([1])));
  assert.equal(reason(five, 4), 'too-large');
  assert.equal(reason(five, 5), undefined);
  assert.throws(() => encodeTokenBatch([new Uint8Array()]), PrivacyPassError);
  assert.throws(() => encodeTokenBatch([new Uint8Array(65_536)]), PrivacyPassError);
});

test('random bytes never throw anything but BatchError', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 600 }),
      fc.integer({ min: 1, max: 64 }),
      (bytes, max) => {
        try {
          const items = decodeTokenBatch(bytes, max);
          assert.ok(items.length >= 1 && items.length <= max);
          assert.deepEqual([...encodeTokenBatch(items)], [...bytes]);
        } catch (err) {
          assert.ok(err instanceof PrivacyPassError, String(err));
        }
      },
    ),
  );
});
