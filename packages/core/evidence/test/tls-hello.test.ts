import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  clientHelloFacts,
  decodeClientHello,
  decodeHandshake,
  decodeServerHello,
  encodeClientHello,
  encodeExtension,
  encodeServerHello,
  EvidenceError,
  groupName,
  isHelloRetryRequest,
  readHandshakes,
  serverHelloFacts,
  type ClientHello,
  type ServerHello,
} from '../src/index.ts';
import { concat, hex, tlsRecord } from './pcap-builder.ts';

// RFC 8448 §3 (Simple 1-RTT Handshake): the ClientHello and ServerHello messages.
const RFC8448_CH = hex(`
  010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef
  6283024dece7000006130113031302010000910000000b000900000673657276
  6572ff01000100000a00140012001d0017001800190100010101020103010400
  230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e
  51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603
  020308040805080604010501060102010402050206020202002d00020101001c
  00024001`);
const RFC8448_SH = hex(`
  020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155
  772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdb
  f7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304`);
// RFC 8448 §5 (HelloRetryRequest): the server asks for secp256r1 and sends a cookie.
const RFC8448_HRR = hex(`
  020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c00130100008400
  3300020017002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd0030
  953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4a
  a15b0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934b0002b00020304`);

const at = { packet: 1, fileOffset: 0, streamOffset: 0 };

const isKind = (kind: EvidenceError['kind']) => (err: unknown) => {
  assert.ok(err instanceof EvidenceError, String(err));
  assert.equal(err.kind, kind);
  return true;
};

test('RFC 8448 §3: the ClientHello facts', () => {
  const { value, bytesRead } = decodeHandshake(RFC8448_CH);
  assert.equal(bytesRead, 196);
  assert.equal(value.type, 1);
  const facts = clientHelloFacts(decodeClientHello(value.body), at);
  assert.equal(facts.sni, 'server');
  assert.deepEqual(facts.alpn, []);
  assert.deepEqual(facts.supportedVersions, [0x0304]);
  assert.deepEqual(
    facts.supportedGroups,
    [0x1d, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102, 0x103, 0x104],
  );
  assert.deepEqual(facts.keyShareGroups, [0x1d]);
  assert.deepEqual(facts.cipherSuites, [0x1301, 0x1303, 0x1302]);
});

test('RFC 8448 §3: the ServerHello selects TLS 1.3, x25519 and TLS_AES_128_GCM_SHA256', () => {
  const { value } = decodeHandshake(RFC8448_SH);
  const sh = decodeServerHello(value.body);
  assert.equal(isHelloRetryRequest(sh), false);
  const facts = serverHelloFacts(sh, at);
  assert.equal(facts.selectedVersion, 0x0304);
  assert.equal(facts.legacyVersion, 0x0303);
  assert.equal(facts.keyShareGroup, 0x1d);
  assert.equal(groupName(facts.keyShareGroup!), 'x25519');
  assert.equal(facts.cipherSuite, 0x1301);
});

test('RFC 8448 §5: a HelloRetryRequest names the group it wants', () => {
  const sh = decodeServerHello(decodeHandshake(RFC8448_HRR).value.body);
  assert.equal(isHelloRetryRequest(sh), true);
  const facts = serverHelloFacts(sh, at);
  assert.equal(facts.helloRetryRequest, true);
  assert.equal(facts.keyShareGroup, 0x17);
});

test('encoders give back the RFC bytes', () => {
  for (const [bytes, decode, encode] of [
    [RFC8448_CH, decodeClientHello, encodeClientHello],
    [RFC8448_SH, decodeServerHello, encodeServerHello],
    [RFC8448_HRR, decodeServerHello, encodeServerHello],
  ] as const) {
    const body = decodeHandshake(bytes).value.body;
    // The two decoders return different shapes; each goes back through its own encoder.
    assert.deepEqual(encode(decode(body) as ClientHello & ServerHello), bytes);
  }
});

test('every strict prefix of a hello message is incomplete', () => {
  for (const msg of [RFC8448_CH, RFC8448_SH, RFC8448_HRR]) {
    for (let k = 0; k < msg.length; k++)
      assert.throws(() => decodeHandshake(msg.subarray(0, k)), isKind('incomplete'));
  }
});

test('records: a hello split across records, and several messages in one record', () => {
  const split = concat([
    tlsRecord(22, RFC8448_CH.subarray(0, 7), 0x0301),
    tlsRecord(22, RFC8448_CH.subarray(7), 0x0301),
  ]);
  const read = readHandshakes(split);
  assert.equal(read.stop, 'end-of-stream');
  assert.equal(read.messages.length, 1);
  assert.deepEqual(read.messages[0]!.body, RFC8448_CH.subarray(4));
  assert.equal(read.messages[0]!.streamOffset, 5);
  const two = concat([
    tlsRecord(22, concat([RFC8448_SH, RFC8448_CH])),
    tlsRecord(20, Uint8Array.of(1)),
    tlsRecord(22, RFC8448_SH),
  ]);
  const both = readHandshakes(two);
  assert.deepEqual(
    both.messages.map((m) => [m.type, m.streamOffset]),
    [
      [2, 5],
      [1, 5 + RFC8448_SH.length],
    ],
  );
  assert.equal(both.stop, 'change-cipher-spec');
  assert.equal(readHandshakes(two, { changeCipherSpecs: 1 }).messages.length, 3);
  assert.equal(
    readHandshakes(concat([tlsRecord(23, Uint8Array.of(1, 2))])).stop,
    'application-data',
  );
  assert.deepEqual(readHandshakes(tlsRecord(21, Uint8Array.of(2, 40))).alert, {
    level: 2,
    description: 40,
  });
  assert.equal(readHandshakes(Buffer.from('GET / HTTP/1.1\r\n')).stop, 'not-tls');
});

test('every strict prefix of a record stream yields only the whole messages before it', () => {
  const stream = concat([tlsRecord(22, RFC8448_CH), tlsRecord(22, RFC8448_SH)]);
  for (let k = 0; k < stream.length; k++) {
    const read = readHandshakes(stream.subarray(0, k));
    const whole = k >= 5 + RFC8448_CH.length ? 1 : 0;
    assert.equal(read.messages.length, whole, `prefix ${k}`);
    assert.equal(read.stop, 'end-of-stream');
  }
});

const bytesN = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u16 = fc.integer({ min: 0, max: 0xffff });
const name = fc.stringMatching(/^[a-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){0,3}$/);

const clientHelloArb: fc.Arbitrary<ClientHello> = fc.record({
  legacyVersion: u16,
  random: bytesN(32),
  sessionId: fc.uint8Array({ maxLength: 32 }),
  cipherSuites: fc.array(u16, { minLength: 1, maxLength: 20 }),
  compressionMethods: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 3 }),
  extensions: fc
    .tuple(
      name,
      fc.array(fc.stringMatching(/^[a-z0-9/.]{1,12}$/), { minLength: 1, maxLength: 3 }),
      fc.array(u16, { minLength: 1, maxLength: 8 }),
    )
    .map(([sni, alpn, groups]) => [
      encodeExtension.serverName(sni),
      encodeExtension.alpn(alpn),
      encodeExtension.supportedGroups(groups),
      encodeExtension.clientSupportedVersions([0x0304, 0x0303]),
      encodeExtension.clientKeyShare(
        groups.slice(0, 2).map((group) => ({ group, keyExchange: new Uint8Array(32).fill(7) })),
      ),
    ]),
});

test('fast-check: ClientHello round trip and facts', () => {
  fc.assert(
    fc.property(clientHelloArb, (ch) => {
      const bytes = encodeClientHello(ch);
      const decoded = decodeClientHello(decodeHandshake(bytes).value.body);
      assert.deepEqual(encodeClientHello(decoded), bytes);
      const facts = clientHelloFacts(decoded, at);
      assert.equal(facts.supportedVersions[0], 0x0304);
      assert.ok(facts.sni !== undefined && facts.sni.length > 0);
    }),
    { numRuns: 200 },
  );
});

test('fast-check: ServerHello round trip', () => {
  fc.assert(
    fc.property(
      bytesN(32),
      fc.uint8Array({ maxLength: 32 }),
      u16,
      u16,
      (random, sessionId, suite, group) => {
        const sh: ServerHello = {
          legacyVersion: 0x0303,
          random,
          sessionId,
          cipherSuite: suite,
          compressionMethod: 0,
          extensions: [
            encodeExtension.serverSupportedVersion(0x0304),
            encodeExtension.serverKeyShare({ group, keyExchange: Uint8Array.of(1) }),
          ],
        };
        const bytes = encodeServerHello(sh);
        const back = decodeServerHello(decodeHandshake(bytes).value.body);
        assert.deepEqual(encodeServerHello(back), bytes);
        assert.equal(serverHelloFacts(back, at).keyShareGroup, group);
      },
    ),
  );
});

test('fuzz: mutated hellos throw only EvidenceError', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(RFC8448_CH, RFC8448_SH, RFC8448_HRR),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
      (msg, edits) => {
        const m = Uint8Array.from(msg);
        for (const [i, v] of edits) m[i % m.length] = v;
        for (const decode of [decodeClientHello, decodeServerHello]) {
          try {
            const body = decodeHandshake(m).value.body;
            const v = decode(body);
            if ('cipherSuites' in v) clientHelloFacts(v, at);
            else serverHelloFacts(v, at);
          } catch (err) {
            assert.ok(err instanceof EvidenceError, String(err));
          }
        }
        readHandshakes(tlsRecord(22, m));
      },
    ),
    { numRuns: 2000 },
  );
});
