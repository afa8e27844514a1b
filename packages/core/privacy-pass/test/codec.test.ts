/**
 * TokenChallenge, Token, TokenRequest, base64url and batch framing: round trips, strict
 * prefixes, and random input that may only ever fail with a PrivacyPassError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AUTHENTICATOR_INPUT_LENGTH,
  NK,
  TOKEN_LENGTH,
  TOKEN_REQUEST_LENGTH,
  TOKEN_TYPE_BLIND_RSA,
  authenticatorInput,
  base64url,
  base64urlPadded,
  challengeDigest,
  decodeChallenge,
  decodeToken,
  decodeTokenBatch,
  decodeTokenRequest,
  encodeChallenge,
  encodeToken,
  encodeTokenBatch,
  fromBase64url,
  type Token,
  type TokenChallenge,
} from '../src/index.ts';
import { hex, onlyPrivacyPassErrors, throwsReason } from './helpers.ts';

const nameArb = fc.stringMatching(/^[a-z0-9.-]{1,40}$/);
const challengeArb: fc.Arbitrary<TokenChallenge> = fc.record({
  tokenType: fc.integer({ min: 0, max: 0xffff }),
  issuerName: nameArb,
  redemptionContext: fc.oneof(
    fc.constant(new Uint8Array(0)),
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
  ),
  originInfo: fc.array(nameArb, { maxLength: 4 }),
});

const tokenArb: fc.Arbitrary<Token> = fc.record({
  tokenType: fc.constant(TOKEN_TYPE_BLIND_RSA),
  nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  challengeDigest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  tokenKeyId: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  authenticator: fc.uint8Array({ minLength: NK, maxLength: NK }),
});

test('constants', () => {
  assert.equal(TOKEN_TYPE_BLIND_RSA, 2);
  assert.equal(NK, 256);
  assert.equal(TOKEN_LENGTH, 354);
  assert.equal(AUTHENTICATOR_INPUT_LENGTH, 98);
  assert.equal(TOKEN_REQUEST_LENGTH, 259);
});

test('TokenChallenge: encode/decode round trip', () => {
  fc.assert(
    fc.property(challengeArb, (c) => {
      const bytes = encodeChallenge(c);
      assert.deepEqual(decodeChallenge(bytes), { ...c, originInfo: [...c.originInfo] });
      assert.deepEqual(encodeChallenge(decodeChallenge(bytes)), bytes);
    }),
  );
});

test('TokenChallenge: every strict prefix, and any trailing byte, is malformed', () => {
  fc.assert(
    fc.property(challengeArb, fc.integer({ min: 0, max: 255 }), (c, extra) => {
      const bytes = encodeChallenge(c);
      for (let n = 0; n < bytes.length; n++) {
        throwsReason(() => decodeChallenge(bytes.subarray(0, n)), 'malformed');
      }
      const longer = new Uint8Array([...bytes, extra]);
      throwsReason(() => decodeChallenge(longer), 'malformed');
    }),
    { numRuns: 50 },
  );
});

test('TokenChallenge: refuses what the wire cannot carry', () => {
  const base = {
    tokenType: 2,
    issuerName: 'issuer.example',
    redemptionContext: new Uint8Array(0),
    originInfo: [],
  };
  throwsReason(() => encodeChallenge({ ...base, issuerName: '' }), 'malformed');
  throwsReason(() => encodeChallenge({ ...base, issuerName: 'bad name' }), 'malformed');
  throwsReason(() => encodeChallenge({ ...base, issuerName: 'ünicode' }), 'malformed');
  throwsReason(
    () => encodeChallenge({ ...base, redemptionContext: new Uint8Array(16) }),
    'malformed',
  );
  throwsReason(() => encodeChallenge({ ...base, originInfo: ['a', ''] }), 'malformed');
  throwsReason(() => encodeChallenge({ ...base, originInfo: ['a,b'] }), 'malformed');
  throwsReason(() => encodeChallenge({ ...base, tokenType: 0x10000 }), 'malformed');
  // Decoding: empty issuer, 16-byte context, empty origin between commas.
  throwsReason(() => decodeChallenge(hex('0002' + '0000' + '00' + '0000')), 'malformed');
  throwsReason(
    () => decodeChallenge(hex('0002' + '000161' + '10' + '00'.repeat(16) + '0000')),
    'malformed',
  );
  throwsReason(
    () => decodeChallenge(hex('0002' + '000161' + '00' + '0003' + '612c2c')),
    'malformed',
  );
  throwsReason(() => decodeChallenge(hex('0002' + '000161' + '00' + '0002' + '612c')), 'malformed');
  // Bytes outside visible ASCII in a name.
  throwsReason(() => decodeChallenge(hex('0002' + '000120' + '00' + '0000')), 'malformed');
  throwsReason(() => decodeChallenge(hex('0002' + '0001c3' + '00' + '0000')), 'malformed');
});

test('TokenChallenge: random bytes only ever fail with PrivacyPassError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      onlyPrivacyPassErrors(() => decodeChallenge(bytes));
    }),
    { numRuns: 2000 },
  );
  // And random bytes with a plausible header, so the length fields get exercised.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 120 }), (n, rest) => {
      onlyPrivacyPassErrors(() => decodeChallenge(new Uint8Array([0, 2, 0, n, ...rest])));
    }),
    { numRuns: 2000 },
  );
});

test('challengeDigest is SHA-256 of the bytes as given', () => {
  assert.equal(
    Buffer.from(challengeDigest(new TextEncoder().encode('abc'))).toString('hex'),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
});

test('Token: encode/decode round trip, 354 bytes', () => {
  fc.assert(
    fc.property(tokenArb, (t) => {
      const bytes = encodeToken(t);
      assert.equal(bytes.length, TOKEN_LENGTH);
      assert.deepEqual(decodeToken(bytes), { ...t });
      assert.deepEqual(authenticatorInput(t), bytes.subarray(0, 98));
    }),
  );
});

test('Token: every strict prefix and every longer body is malformed', () => {
  fc.assert(
    fc.property(tokenArb, (t) => {
      const bytes = encodeToken(t);
      for (let n = 0; n < bytes.length; n++) {
        throwsReason(() => decodeToken(bytes.subarray(0, n)), 'malformed');
      }
      throwsReason(() => decodeToken(new Uint8Array([...bytes, 0])), 'malformed');
    }),
    { numRuns: 20 },
  );
});

test('Token: other token types are unsupported-type, whatever their length', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }).filter((n) => n !== 2),
      fc.uint8Array({ maxLength: 400 }),
      (type, rest) => {
        throwsReason(
          () => decodeToken(new Uint8Array([type >> 8, type & 0xff, ...rest])),
          'unsupported-type',
        );
      },
    ),
  );
  throwsReason(() => decodeToken(hex('0001' + '00'.repeat(352))), 'unsupported-type');
});

test('Token: decoded fields are copies, not views of the input', () => {
  const bytes = new Uint8Array(TOKEN_LENGTH);
  bytes[1] = 2;
  const t = decodeToken(bytes);
  bytes.fill(0xee);
  assert.ok(t.nonce.every((b) => b === 0));
  assert.ok(t.authenticator.every((b) => b === 0));
});

test('Token: encoding refuses wrong field lengths or types', () => {
  const t = fc.sample(tokenArb, 1)[0]!;
  throwsReason(() => encodeToken({ ...t, nonce: new Uint8Array(31) }), 'malformed');
  throwsReason(() => encodeToken({ ...t, authenticator: new Uint8Array(255) }), 'malformed');
  throwsReason(() => encodeToken({ ...t, tokenType: 1 }), 'unsupported-type');
});

test('Token: random bytes only ever fail with PrivacyPassError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      onlyPrivacyPassErrors(() => decodeToken(bytes));
    }),
    { numRuns: 2000 },
  );
});

test('TokenRequest: exact length, type 2 only, every prefix malformed', () => {
  const good = new Uint8Array(TOKEN_REQUEST_LENGTH);
  good[1] = 2;
  good[2] = 0xab;
  good[3] = 7;
  const r = decodeTokenRequest(good);
  assert.equal(r.tokenType, 2);
  assert.equal(r.truncatedTokenKeyId, 0xab);
  assert.equal(r.blindedMsg.length, NK);
  assert.equal(r.blindedMsg[0], 7);
  for (let n = 0; n < good.length; n++) {
    throwsReason(() => decodeTokenRequest(good.subarray(0, n)), 'malformed');
  }
  throwsReason(() => decodeTokenRequest(new Uint8Array([...good, 0])), 'malformed');
  throwsReason(
    () => decodeTokenRequest(new Uint8Array([0, 1, ...good.subarray(2)])),
    'unsupported-type',
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      onlyPrivacyPassErrors(() => decodeTokenRequest(bytes));
    }),
  );
});

test('base64url: round trip, unpadded out, padded or not in', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const s = base64url(bytes);
      assert.doesNotMatch(s, /[=+/]/);
      assert.deepEqual(fromBase64url(s), bytes);
      assert.deepEqual(fromBase64url(base64urlPadded(bytes)), bytes);
      assert.equal(base64urlPadded(bytes).length % 4, 0);
    }),
  );
});

test('base64url: strict', () => {
  for (const bad of [
    'a',
    'ab=',
    'abc==',
    'ab===',
    '====',
    '=',
    'a+b/',
    'ab cd',
    'ab\n',
    'ab%3D',
    'ab==ab',
    'ab=c',
    'é',
    'AB',
    'AAB',
  ]) {
    throwsReason(() => fromBase64url(bad), 'malformed');
  }
  assert.deepEqual(fromBase64url(''), new Uint8Array(0));
  assert.deepEqual(fromBase64url('AA'), new Uint8Array([0]));
  assert.deepEqual(fromBase64url('AA=='), new Uint8Array([0]));
  assert.deepEqual(fromBase64url('AAA='), new Uint8Array([0, 0]));
  assert.deepEqual(fromBase64url('_-8'), new Uint8Array([0xff, 0xef]));
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      onlyPrivacyPassErrors(() => fromBase64url(s));
    }),
    { numRuns: 2000 },
  );
});

test('batch framing: round trip, prefixes, limits', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 8 }),
      (items) => {
        const body = encodeTokenBatch(items);
        assert.deepEqual(decodeTokenBatch(body, items.length), items);
        throwsReason(() => decodeTokenBatch(body, items.length - 1), 'too-large');
        const boundaries = new Set<number>();
        for (let at = 0, i = 0; i < items.length; i++) boundaries.add((at += 2 + items[i]!.length));
        for (let n = 0; n < body.length; n++) {
          const prefix = body.subarray(0, n);
          if (boundaries.has(n)) {
            // A prefix that ends on an item boundary is a shorter valid batch.
            assert.ok(decodeTokenBatch(prefix, items.length).length < items.length);
          } else {
            throwsReason(() => decodeTokenBatch(prefix, items.length), 'malformed');
          }
        }
      },
    ),
    { numRuns: 50 },
  );
  throwsReason(() => decodeTokenBatch(new Uint8Array(0), 4), 'malformed');
  throwsReason(() => decodeTokenBatch(hex('0000'), 4), 'malformed');
  throwsReason(() => encodeTokenBatch([new Uint8Array(0)]), 'malformed');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      onlyPrivacyPassErrors(() => decodeTokenBatch(bytes, 3));
    }),
  );
});
