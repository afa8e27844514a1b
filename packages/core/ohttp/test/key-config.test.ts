import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeKeyConfig,
  decodeKeys,
  encodeKeyConfig,
  encodeKeys,
  OhttpError,
  type KeyConfig,
} from '../src/index.ts';
import { hex, isReason, readVectors } from './helpers.ts';

const example = hex(readVectors<{ keyConfig: string }>('rfc9458-appendix-a.json').keyConfig);

const configArb: fc.Arbitrary<KeyConfig> = fc
  .record({
    keyId: fc.integer({ min: 0, max: 255 }),
    kemId: fc.constantFrom(0x0010, 0x0020, 0x647a),
    symmetric: fc.array(
      fc
        .record({
          kdfId: fc.integer({ min: 0, max: 0xffff }),
          aeadId: fc.integer({ min: 0, max: 0xffff }),
        })
        .map((s) => ({ ...s })),
      { minLength: 1, maxLength: 5 },
    ),
  })
  .chain((c) =>
    fc
      .uint8Array({
        minLength: c.kemId === 0x20 ? 32 : c.kemId === 0x10 ? 65 : 1216,
        maxLength: c.kemId === 0x20 ? 32 : c.kemId === 0x10 ? 65 : 1216,
      })
      .map((publicKey) => ({ ...c, publicKey })),
  );

test('round trip: one configuration, and application/ohttp-keys lists of several', () => {
  fc.assert(
    fc.property(fc.array(configArb, { minLength: 1, maxLength: 4 }), (configs) => {
      for (const c of configs) {
        const bytes = encodeKeyConfig(c);
        assert.deepEqual(decodeKeyConfig(bytes), { value: c, bytesRead: bytes.length });
      }
      const list = encodeKeys(configs);
      assert.deepEqual(decodeKeys(list), { value: configs, skipped: 0, bytesRead: list.length });
    }),
    { numRuns: 100 },
  );
});

test('application/ohttp-keys: each configuration carries a 2-byte length (RFC 9458 §3.2)', () => {
  const list = encodeKeys([decodeKeyConfig(example).value]);
  assert.equal(list[0], 0);
  assert.equal(list[1], example.length);
  assert.deepEqual(list.subarray(2), example);
});

test('every strict prefix is incomplete, for a configuration and for a list', () => {
  for (let k = 0; k < example.length; k++) {
    assert.throws(
      () => decodeKeyConfig(example.subarray(0, k)),
      isReason('incomplete'),
      `prefix ${k}`,
    );
  }
  const list = encodeKeys([decodeKeyConfig(example).value, decodeKeyConfig(example).value]);
  const boundary = 2 + example.length;
  for (let k = 1; k < list.length; k++) {
    if (k === boundary) {
      assert.equal(decodeKeys(list.subarray(0, k)).value.length, 1);
      continue;
    }
    assert.throws(() => decodeKeys(list.subarray(0, k)), isReason('incomplete'), `prefix ${k}`);
  }
  assert.throws(() => decodeKeys(new Uint8Array(0)), isReason('malformed'));
});

test('an unknown KEM is skipped in a list and refused alone; bad lengths are malformed', () => {
  const unknown = Uint8Array.of(7, 0x99, 0x99, 1, 2, 3);
  const list = Buffer.concat([
    Uint8Array.of(0, unknown.length),
    unknown,
    encodeKeys([decodeKeyConfig(example).value]),
  ]);
  const decoded = decodeKeys(list);
  assert.equal(decoded.skipped, 1);
  assert.equal(decoded.value.length, 1);
  assert.throws(() => decodeKeyConfig(unknown), isReason('unknown-key'));
  // Symmetric algorithms length not a multiple of 4, or zero.
  for (const bad of [3, 0, 6]) {
    const b = example.slice();
    b[35] = 0;
    b[36] = bad;
    assert.throws(() => decodeKeyConfig(b), isReason('malformed'));
  }
  // A length prefix that disagrees with the configuration inside.
  const long = Buffer.concat([Uint8Array.of(0, example.length + 1), example, Uint8Array.of(0)]);
  assert.throws(() => decodeKeys(long), isReason('malformed'));
});

test('random bytes decode or fail only with OhttpError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      for (const f of [() => decodeKeyConfig(bytes), () => decodeKeys(bytes)]) {
        try {
          f();
        } catch (err) {
          assert.ok(err instanceof OhttpError, String(err));
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('encoders refuse values no configuration can carry', () => {
  const c = decodeKeyConfig(example).value;
  assert.throws(() => encodeKeyConfig({ ...c, keyId: 256 }), RangeError);
  assert.throws(() => encodeKeyConfig({ ...c, symmetric: [] }), RangeError);
  assert.throws(() => encodeKeyConfig({ ...c, publicKey: new Uint8Array(31) }), RangeError);
});
