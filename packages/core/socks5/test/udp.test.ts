import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Socks5Error, SocksReply, decodeUdpHeader, encodeUdpHeader } from '../src/index.ts';
import { bytes, hostArb, neverThrowsOtherThanSocks5Error, portArb } from './helpers.ts';

const incomplete = { ok: false, incomplete: true };

test('RFC 1928 §7 header with ATYP IPv4 and a payload', () => {
  const msg = bytes([0x00, 0x00], 0x00, 0x01, [192, 0, 2, 53], [0x00, 0x35], 'query');
  const r = decodeUdpHeader(msg);
  assert.ok(r.ok);
  assert.equal(r.bytesRead, msg.length);
  const { data, ...rest } = r.value;
  assert.deepEqual(rest, { frag: 0, host: '192.0.2.53', port: 53, kind: 'ipv4' });
  assert.equal(Buffer.from(data).toString(), 'query');
  assert.deepEqual(encodeUdpHeader({ host: '192.0.2.53', port: 53 }, Buffer.from('query')), msg);
});

test('RFC 1928 §7 header with ATYP DOMAINNAME, a fragment number and no payload', () => {
  const msg = bytes([0x00, 0x00], 0x02, 0x03, 11, 'example.com', [0x01, 0xbb]);
  assert.deepEqual(encodeUdpHeader({ host: 'example.com', port: 443, frag: 2 }), msg);
  const r = decodeUdpHeader(msg);
  assert.ok(r.ok);
  assert.equal(r.value.frag, 2);
  assert.equal(r.value.host, 'example.com');
  assert.equal(r.value.data.length, 0);
});

test('every strict prefix of a header is incomplete (a truncated datagram)', () => {
  const header = encodeUdpHeader({ host: '2001:db8::5', port: 443 });
  for (let i = 0; i < header.length; i++)
    assert.deepEqual(decodeUdpHeader(header.subarray(0, i)), incomplete, `prefix ${i}`);
  assert.ok(decodeUdpHeader(header).ok);
});

test('invalid headers throw Socks5Error', () => {
  assert.throws(() => decodeUdpHeader(bytes(0x01)), Socks5Error);
  assert.throws(() => decodeUdpHeader(bytes(0x00, 0x01)), Socks5Error);
  assert.throws(
    () => decodeUdpHeader(bytes(0x00, 0x00, 0x00, 0x09)),
    (err: unknown) =>
      err instanceof Socks5Error && err.reply === SocksReply.addressTypeNotSupported,
  );
  assert.throws(() => decodeUdpHeader(bytes(0x00, 0x00, 0x00, 0x03, 0)), Socks5Error);
  assert.throws(() => encodeUdpHeader({ host: 'a.com', port: 1, frag: 256 }), Socks5Error);
});

test('datagrams round trip (property)', () => {
  fc.assert(
    fc.property(
      hostArb,
      portArb,
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 200 }),
      (h, port, frag, data) => {
        const msg = encodeUdpHeader({ host: h.host, port, frag }, data);
        const r = decodeUdpHeader(msg);
        assert.ok(r.ok);
        assert.deepEqual(
          { ...r.value, data: Uint8Array.from(r.value.data) },
          { frag, host: h.host, port, kind: h.kind, data },
        );
        assert.equal(r.bytesRead, msg.length);
      },
    ),
  );
});

test('random bytes throw nothing but Socks5Error (property)', () => {
  neverThrowsOtherThanSocks5Error(decodeUdpHeader);
  neverThrowsOtherThanSocks5Error(decodeUdpHeader, [0x00, 0x00, 0x00, 0x03]);
});
