import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CapsuleError,
  CapsuleParser,
  DATAGRAM_CAPSULE_TYPE,
  datagramCapsuleHeader,
  decodeUdpPayload,
  encodeCapsule,
  encodeDatagramCapsule,
  encodeUdpPayload,
  MAX_UDP_PAYLOAD,
} from '../src/index.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

function malformed(err: unknown): boolean {
  assert.ok(err instanceof CapsuleError);
  assert.equal(err.kind, 'malformed');
  assert.equal(err.code, 'malformed-request');
  return true;
}

test('RFC 9298 §5 payload: context ID varint, then the UDP payload', () => {
  const hello = new TextEncoder().encode('hello');
  assert.deepEqual(encodeUdpPayload(hello), hex('00 68656c6c6f'));
  assert.deepEqual(encodeUdpPayload(0, hello), hex('00 68656c6c6f'));
  assert.deepEqual(encodeUdpPayload(2, hello), hex('02 68656c6c6f'));
  assert.deepEqual(encodeUdpPayload(0x4000, new Uint8Array(0)), hex('80004000'));
  assert.deepEqual(decodeUdpPayload(hex('00 68656c6c6f')), { contextId: 0, payload: hello });
  // An empty UDP payload is allowed ("this field can be empty").
  assert.deepEqual(decodeUdpPayload(hex('00')), { contextId: 0, payload: new Uint8Array(0) });
  // A non-minimal context ID 0 is still 0.
  assert.deepEqual(decodeUdpPayload(hex('4000 ff')), { contextId: 0, payload: hex('ff') });
});

test('unknown context IDs are reported, not errors, so the caller can drop them', () => {
  assert.deepEqual(decodeUdpPayload(hex('01 ff')), { contextId: 1, payload: hex('ff') });
  const big = decodeUdpPayload(hex('ffffffffffffffff 00'));
  assert.equal(big.contextId, 2n ** 62n - 1n);
  // Over the context-0 cap is fine for another context: that limit is only §5's for UDP.
  assert.equal(
    decodeUdpPayload(encodeUdpPayload(2, new Uint8Array(MAX_UDP_PAYLOAD + 1))).contextId,
    2,
  );
});

test('malformed datagrams: no context ID, or a UDP payload over 65527 bytes', () => {
  assert.throws(() => decodeUdpPayload(new Uint8Array(0)), malformed);
  assert.throws(() => decodeUdpPayload(hex('40')), malformed);
  assert.equal(
    decodeUdpPayload(encodeUdpPayload(new Uint8Array(MAX_UDP_PAYLOAD))).payload.length,
    MAX_UDP_PAYLOAD,
  );
  const tooBig = new Uint8Array(1 + MAX_UDP_PAYLOAD + 1);
  assert.throws(() => decodeUdpPayload(tooBig), malformed);
  assert.throws(() => encodeUdpPayload(new Uint8Array(MAX_UDP_PAYLOAD + 1)), RangeError);
  assert.throws(() => encodeDatagramCapsule(new Uint8Array(MAX_UDP_PAYLOAD + 1)), RangeError);
  assert.throws(() => datagramCapsuleHeader(-1), RangeError);
});

test('DATAGRAM capsule (RFC 9297 §3.5): type 0, length, context ID 0, payload', () => {
  const hello = new TextEncoder().encode('hello');
  assert.deepEqual(encodeDatagramCapsule(hello), hex('00 06 00 68656c6c6f'));
  assert.deepEqual(encodeDatagramCapsule(new Uint8Array(0)), hex('00 01 00'));
  const big = new Uint8Array(1000).fill(7);
  const capsule = encodeDatagramCapsule(big);
  assert.deepEqual(capsule.subarray(0, 4), hex('00 43e9 00')); // 1001 = 0x3e9 as a 2-byte varint
  assert.deepEqual(capsule, encodeCapsule(DATAGRAM_CAPSULE_TYPE, encodeUdpPayload(big)));
  assert.deepEqual(datagramCapsuleHeader(big.length), capsule.subarray(0, 4));
  // Largest valid datagram fits the parser's default limit.
  const largest = encodeDatagramCapsule(new Uint8Array(MAX_UDP_PAYLOAD));
  let n = 0;
  new CapsuleParser({ onCapsule: (_t, v) => (n = decodeUdpPayload(v).payload.length) }).push(
    largest,
  );
  assert.equal(n, MAX_UDP_PAYLOAD);
});

test('round trip: payloads through DATAGRAM capsules and the parser', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 6 }), (payloads) => {
      const got: Uint8Array[] = [];
      const p = new CapsuleParser({
        onCapsule: (type, value) => {
          assert.equal(type, DATAGRAM_CAPSULE_TYPE);
          const d = decodeUdpPayload(value);
          assert.equal(d.contextId, 0);
          got.push(Uint8Array.from(d.payload));
        },
      });
      for (const payload of payloads) p.push(encodeDatagramCapsule(payload));
      p.end();
      assert.deepEqual(got, payloads);
    }),
  );
});

test('round trip: any context ID and payload', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.nat(), fc.maxSafeNat(), fc.bigInt({ min: 2n ** 53n, max: 2n ** 62n - 1n })),
      fc.uint8Array({ maxLength: 500 }),
      (contextId, payload) => {
        const d = decodeUdpPayload(encodeUdpPayload(contextId, payload));
        assert.equal(d.contextId, contextId);
        assert.deepEqual(d.payload, payload);
      },
    ),
  );
});

test('random bytes throw nothing but CapsuleError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => {
      try {
        decodeUdpPayload(bytes);
      } catch (err) {
        assert.ok(err instanceof CapsuleError);
      }
    }),
  );
});
