import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RelayError } from '@splitrelay/errors';
import {
  Socks5Error,
  SocksReply,
  decodeRequest,
  encodeRequest,
  type Socks5Command,
} from '../src/index.ts';
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

function rejects(msg: Uint8Array, reply: number, details?: RegExp): void {
  assert.throws(
    () => decodeRequest(msg),
    (err: unknown) => {
      assert.ok(err instanceof Socks5Error);
      assert.ok(err instanceof RelayError);
      assert.equal(err.reply, reply);
      if (details) assert.match(err.details, details);
      return true;
    },
  );
}

test('RFC 1928 §4 CONNECT with ATYP IPv4', () => {
  const msg = bytes(0x05, 0x01, 0x00, 0x01, [192, 0, 2, 1], [0x00, 0x50]);
  assert.deepEqual(decodeExactly(decodeRequest, msg), {
    command: 'connect',
    host: '192.0.2.1',
    port: 80,
    kind: 'ipv4',
  });
  assert.deepEqual(encodeRequest({ command: 'connect', host: '192.0.2.1', port: 80 }), msg);
});

test('RFC 1928 §4 CONNECT with ATYP DOMAINNAME keeps the name', () => {
  const msg = bytes(0x05, 0x01, 0x00, 0x03, 11, 'example.com', [0x01, 0xbb]);
  assert.deepEqual(decodeExactly(decodeRequest, msg), {
    command: 'connect',
    host: 'example.com',
    port: 443,
    kind: 'dns',
  });
  assert.deepEqual(encodeRequest({ command: 'connect', host: 'example.com', port: 443 }), msg);
  // Names are canonicalised like any authority host: lower case, no trailing dot.
  const upper = bytes(0x05, 0x01, 0x00, 0x03, 12, 'Example.COM.', [0x01, 0xbb]);
  assert.equal(decodeExactly(decodeRequest, upper).host, 'example.com');
});

test('RFC 1928 §4 ATYP IPv6, BIND and UDP ASSOCIATE', () => {
  const v6 = bytes(
    0x05,
    0x03,
    0x00,
    0x04,
    [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1],
    [0, 53],
  );
  assert.deepEqual(decodeExactly(decodeRequest, v6), {
    command: 'udp-associate',
    host: '2001:db8::1',
    port: 53,
    kind: 'ipv6',
  });
  // UDP ASSOCIATE from a client that does not yet know its address: 0.0.0.0:0.
  const any = bytes(0x05, 0x03, 0x00, 0x01, [0, 0, 0, 0], [0, 0]);
  assert.deepEqual(decodeExactly(decodeRequest, any), {
    command: 'udp-associate',
    host: '0.0.0.0',
    port: 0,
    kind: 'ipv4',
  });
  const bind = bytes(0x05, 0x02, 0x00, 0x01, [10, 0, 0, 1], [0x1f, 0x90]);
  assert.equal(decodeExactly(decodeRequest, bind).command, 'bind');
});

test('a DOMAINNAME that spells an IP literal is reported as that kind', () => {
  // curl --socks5-hostname sends 127.0.0.1 as ATYP 3.
  const msg = bytes(0x05, 0x01, 0x00, 0x03, 9, '127.0.0.1', [0x1f, 0x90]);
  assert.deepEqual(decodeExactly(decodeRequest, msg), {
    command: 'connect',
    host: '127.0.0.1',
    port: 8080,
    kind: 'ipv4',
  });
  const v6 = bytes(0x05, 0x01, 0x00, 0x03, 3, '::1', [0, 80]);
  assert.deepEqual(decodeExactly(decodeRequest, v6), {
    command: 'connect',
    host: '::1',
    port: 80,
    kind: 'ipv6',
  });
});

test('invalid requests carry the reply to send', () => {
  rejects(bytes(0x04, 0x01), SocksReply.generalFailure, /version/);
  rejects(bytes(0x05, 0x09), SocksReply.commandNotSupported, /command/);
  rejects(bytes(0x05, 0x00), SocksReply.commandNotSupported);
  rejects(bytes(0x05, 0x01, 0x01), SocksReply.generalFailure, /reserved/);
  rejects(bytes(0x05, 0x01, 0x00, 0x02), SocksReply.addressTypeNotSupported);
  rejects(bytes(0x05, 0x01, 0x00, 0x05), SocksReply.addressTypeNotSupported);
  rejects(bytes(0x05, 0x01, 0x00, 0x03, 0), SocksReply.generalFailure, /empty/);
  rejects(bytes(0x05, 0x01, 0x00, 0x03, 4, 'a\nb.', [0, 80]), SocksReply.generalFailure, /control/);
  rejects(bytes(0x05, 0x01, 0x00, 0x03, 3, 'a\0b', [0, 80]), SocksReply.generalFailure, /control/);
  rejects(
    bytes(0x05, 0x01, 0x00, 0x03, 3, [0x61, 0xe9, 0x62], [0, 80]),
    SocksReply.generalFailure,
    /non-ASCII/,
  );
  // Smuggled IPv4 forms are not names either.
  rejects(
    bytes(0x05, 0x01, 0x00, 0x03, 6, '0x7f.1', [0, 80]),
    SocksReply.generalFailure,
    /numeric/,
  );
  rejects(
    bytes(0x05, 0x01, 0x00, 0x03, 8, '01.2.3.4', [0, 80]),
    SocksReply.generalFailure,
    /numeric/,
  );
  rejects(bytes(0x05, 0x01, 0x00, 0x03, 9, 'a.com:443', [0, 80]), SocksReply.generalFailure);
});

test('encoders refuse what cannot be sent', () => {
  assert.throws(() => encodeRequest({ command: 'connect', host: 'a b', port: 1 }), Socks5Error);
  assert.throws(
    () => encodeRequest({ command: 'connect', host: 'a.com', port: 65536 }),
    Socks5Error,
  );
  assert.throws(() => encodeRequest({ command: 'connect', host: '', port: 1 }), Socks5Error);
  assert.throws(
    () => encodeRequest({ command: 'nope' as Socks5Command, host: 'a.com', port: 1 }),
    Socks5Error,
  );
});

const requestArb = fc
  .tuple(fc.constantFrom<Socks5Command>('connect', 'bind', 'udp-associate'), hostArb, portArb)
  .map(([command, h, port]) => ({ command, host: h.host, port, kind: h.kind }));

test('requests round trip, whole, byte at a time and in random chunks (property)', () => {
  fc.assert(
    fc.property(
      fc.array(requestArb, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat()),
      (rs, cuts) => {
        const encoded = rs.map(encodeRequest);
        for (const [i, e] of encoded.entries())
          assert.deepEqual(decodeExactly(decodeRequest, e), rs[i]);
        const all = Buffer.concat(encoded);
        assert.deepEqual(decodeStream(decodeRequest, oneByteChunks(all)), rs);
        assert.deepEqual(decodeStream(decodeRequest, chunked(all, cuts)), rs);
      },
    ),
  );
});

test('random bytes throw nothing but Socks5Error (property)', () => {
  neverThrowsOtherThanSocks5Error(decodeRequest);
  for (const atyp of [0x01, 0x03, 0x04])
    neverThrowsOtherThanSocks5Error(decodeRequest, [0x05, 0x01, 0x00, atyp]);
});
