import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { relayErrorCodes, type RelayErrorCode } from '@splitrelay/errors';
import { Socks5Error, SocksReply, decodeReply, encodeReply, socksReplyFor } from '../src/index.ts';
import {
  bytes,
  chunked,
  decodeExactly,
  decodeStream,
  hostArb,
  neverThrowsOtherThanSocks5Error,
  oneByteChunks,
  portArb,
} from './helpers.ts';

test('RFC 1928 §6 success reply, default BND 0.0.0.0:0', () => {
  const msg = bytes(0x05, 0x00, 0x00, 0x01, [0, 0, 0, 0], [0, 0]);
  assert.deepEqual(encodeReply(SocksReply.succeeded), msg);
  assert.deepEqual(decodeExactly(decodeReply, msg), {
    reply: 0,
    host: '0.0.0.0',
    port: 0,
    kind: 'ipv4',
  });
});

test('RFC 1928 §6 replies with a bound address of each type', () => {
  assert.deepEqual(
    encodeReply(SocksReply.succeeded, { host: '::1', port: 1080 }),
    bytes(0x05, 0x00, 0x00, 0x04, [...new Array<number>(15).fill(0), 1], [0x04, 0x38]),
  );
  assert.deepEqual(
    encodeReply(SocksReply.hostUnreachable, { host: 'relay.example', port: 443 }),
    bytes(0x05, 0x04, 0x00, 0x03, 13, 'relay.example', [0x01, 0xbb]),
  );
  // Unassigned REP values (X'09'..X'FF') still decode: the client decides what they mean.
  assert.equal(
    decodeExactly(decodeReply, bytes(0x05, 0x42, 0x00, 0x01, [1, 2, 3, 4], [0, 1])).reply,
    0x42,
  );
});

test('invalid replies throw Socks5Error', () => {
  assert.throws(() => decodeReply(bytes(0x00)), Socks5Error);
  assert.throws(() => decodeReply(bytes(0x05, 0x00, 0x01)), Socks5Error);
  assert.throws(() => decodeReply(bytes(0x05, 0x00, 0x00, 0x07)), Socks5Error);
  assert.throws(() => encodeReply(0x100), Socks5Error);
});

test('every relay error code maps to the reply the brief names', () => {
  const expected: Partial<Record<RelayErrorCode, number>> = {
    'target-prohibited': 0x02,
    'port-prohibited': 0x02,
    'unknown-egress': 0x02,
    'egress-unavailable': 0x03,
    'dns-error': 0x04,
    'dns-timeout': 0x04,
    'destination-unreachable': 0x04,
    'connection-refused': 0x05,
    'connection-timeout': 0x06,
    'egress-timeout': 0x06,
    'idle-timeout': 0x06,
    'method-not-allowed': 0x07,
    'malformed-request': 0x01,
    internal: 0x01,
  };
  for (const code of relayErrorCodes) {
    const reply = socksReplyFor(code);
    assert.ok(reply >= 0x01 && reply <= 0x08, code);
    if (expected[code] !== undefined) assert.equal(reply, expected[code], code);
  }
  assert.equal(new Socks5Error('dns-error', 'x').reply, 0x04);
});

test('replies round trip, whole, byte at a time and in random chunks (property)', () => {
  const replyArb = fc
    .tuple(fc.integer({ min: 0, max: 255 }), hostArb, portArb)
    .map(([reply, h, port]) => ({ reply, host: h.host, port, kind: h.kind }));
  fc.assert(
    fc.property(
      fc.array(replyArb, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat()),
      (rs, cuts) => {
        const encoded = rs.map((r) => encodeReply(r.reply, r));
        for (const [i, e] of encoded.entries())
          assert.deepEqual(decodeExactly(decodeReply, e), rs[i]);
        const all = Buffer.concat(encoded);
        assert.deepEqual(decodeStream(decodeReply, oneByteChunks(all)), rs);
        assert.deepEqual(decodeStream(decodeReply, chunked(all, cuts)), rs);
      },
    ),
  );
});

test('random bytes throw nothing but Socks5Error (property)', () => {
  neverThrowsOtherThanSocks5Error(decodeReply);
  neverThrowsOtherThanSocks5Error(decodeReply, [0x05, 0x00, 0x00, 0x03]);
});
