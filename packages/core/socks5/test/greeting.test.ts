import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Socks5Error,
  SocksMethod,
  decodeGreeting,
  decodeMethodSelection,
  encodeGreeting,
  encodeMethodSelection,
} from '../src/index.ts';
import {
  bytes,
  chunked,
  decodeExactly,
  decodeStream,
  neverThrowsOtherThanSocks5Error,
  oneByteChunks,
} from './helpers.ts';

test('RFC 1928 §3 greeting: VER 5, NMETHODS, METHODS', () => {
  // What curl sends: no authentication, or username/password.
  const msg = bytes(0x05, 0x02, 0x00, 0x02);
  assert.deepEqual(decodeExactly(decodeGreeting, msg), {
    methods: [SocksMethod.noAuth, SocksMethod.usernamePassword],
  });
  assert.deepEqual(encodeGreeting({ methods: [0x00, 0x02] }), msg);
  assert.deepEqual(decodeExactly(decodeGreeting, bytes(0x05, 0x01, 0x00)), { methods: [0] });
});

test('RFC 1928 §3 method selection, including X’FF’ no acceptable methods', () => {
  assert.deepEqual(encodeMethodSelection(SocksMethod.noAuth), bytes(0x05, 0x00));
  assert.deepEqual(encodeMethodSelection(SocksMethod.noAcceptable), bytes(0x05, 0xff));
  assert.deepEqual(decodeExactly(decodeMethodSelection, bytes(0x05, 0xff)), { method: 0xff });
});

test('invalid greetings throw Socks5Error at the first wrong byte', () => {
  assert.throws(() => decodeGreeting(bytes(0x04)), Socks5Error); // SOCKS4
  assert.throws(() => decodeGreeting(bytes('GET / HTTP/1.1\r\n')), Socks5Error);
  assert.throws(() => decodeGreeting(bytes(0x05, 0x00)), /no methods/);
  assert.throws(() => decodeMethodSelection(bytes(0x01, 0x00)), Socks5Error);
  assert.throws(() => encodeGreeting({ methods: [] }), Socks5Error);
  assert.throws(() => encodeGreeting({ methods: [256] }), Socks5Error);
  assert.throws(() => encodeMethodSelection(-1), Socks5Error);
});

test('extra bytes after a greeting are left for the request', () => {
  const r = decodeGreeting(bytes(0x05, 0x01, 0x00, 0x05, 0x01));
  assert.ok(r.ok);
  assert.equal(r.bytesRead, 3);
});

test('greetings round trip, whole, byte at a time and in random chunks (property)', () => {
  const greeting = fc
    .array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 255 })
    .map((methods) => ({ methods }));
  fc.assert(
    fc.property(
      fc.array(greeting, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat()),
      (gs, cuts) => {
        const encoded = gs.map(encodeGreeting);
        for (const [i, e] of encoded.entries())
          assert.deepEqual(decodeExactly(decodeGreeting, e), gs[i]);
        const all = Buffer.concat(encoded);
        assert.deepEqual(decodeStream(decodeGreeting, oneByteChunks(all)), gs);
        assert.deepEqual(decodeStream(decodeGreeting, chunked(all, cuts)), gs);
      },
    ),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), (m) => {
      assert.deepEqual(decodeExactly(decodeMethodSelection, encodeMethodSelection(m)), {
        method: m,
      });
    }),
  );
});

test('random bytes throw nothing but Socks5Error (property)', () => {
  neverThrowsOtherThanSocks5Error(decodeGreeting);
  neverThrowsOtherThanSocks5Error(decodeGreeting, [0x05]);
  neverThrowsOtherThanSocks5Error(decodeMethodSelection);
});
