/**
 * The RFCs' own vectors through the public API (sources: test/vectors/SOURCES.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TOKEN_TYPE_BLIND_RSA,
  beginTokenRequest,
  challengeDigest,
  decodeChallenge,
  decodeToken,
  decodeTokenRequest,
  encodeChallenge,
  formatChallengeHeader,
  importTokenKey,
  issueTokenResponse,
  loadIssuerKey,
  parseChallengeHeader,
  verifyToken,
} from '../src/index.ts';
import { hex, readVectors, scriptRandomness, toHex } from './helpers.ts';

interface IssuanceVector {
  skS: string;
  pkS: string;
  token_challenge: string;
  nonce: string;
  blind: string;
  salt: string;
  token_request: string;
  token_response: string;
  token: string;
}

const issuance = readVectors<IssuanceVector[]>('rfc9578-a2-blind-rsa.json');

for (const [i, v] of issuance.entries()) {
  test(`RFC 9578 A.2 vector ${i + 1}: token_request, token_response and token byte for byte`, async () => {
    const pem = Buffer.from(v.skS, 'hex').toString('latin1');
    const issuerKey = await loadIssuerKey(pem);
    assert.equal(toHex(issuerKey.tokenKey.spki), v.pkS, 'token key derived from skS is pkS');

    const restore = scriptRandomness([hex(v.nonce), hex(v.salt), hex(v.blind)]);
    let pending;
    try {
      pending = await beginTokenRequest(hex(v.token_challenge), hex(v.pkS));
    } finally {
      restore();
    }
    assert.equal(toHex(pending.request), v.token_request);
    const request = decodeTokenRequest(pending.request);
    assert.equal(request.tokenType, TOKEN_TYPE_BLIND_RSA);
    assert.equal(request.truncatedTokenKeyId, issuerKey.tokenKey.truncatedId);

    const response = await issueTokenResponse(pending.request, [issuerKey]);
    assert.equal(toHex(response), v.token_response);

    const encoded = await pending.finalize(response);
    assert.equal(toHex(encoded), v.token);

    const token = decodeToken(encoded);
    assert.equal(toHex(token.nonce), v.nonce);
    assert.deepEqual(token.challengeDigest, challengeDigest(hex(v.token_challenge)));
    const key = importTokenKey(hex(v.pkS));
    assert.equal(verifyToken(token, key), true);
  });

  test(`RFC 9578 A.2 vector ${i + 1}: any one flipped bit of the token fails verification`, () => {
    const key = importTokenKey(hex(v.pkS));
    const good = hex(v.token);
    // Every byte of the authenticator input and a spread of authenticator bytes.
    for (let byte = 2; byte < good.length; byte += byte < 98 ? 1 : 17) {
      const bad = good.slice();
      bad[byte]! ^= 1 << (byte % 8);
      assert.equal(verifyToken(decodeToken(bad), key), false, `bit flipped in byte ${byte}`);
    }
  });

  test(`RFC 9578 A.2 vector ${i + 1}: the challenge decodes and re-encodes to the same bytes`, () => {
    const challenge = decodeChallenge(hex(v.token_challenge));
    assert.equal(challenge.tokenType, TOKEN_TYPE_BLIND_RSA);
    assert.equal(challenge.issuerName, 'issuer.example');
    assert.equal(toHex(encodeChallenge(challenge)), v.token_challenge);
  });
}

test('RFC 9578 A.2: the challenges cover redemption context and origin info variants', () => {
  const shapes = issuance.map((v) => {
    const c = decodeChallenge(hex(v.token_challenge));
    return [c.redemptionContext.length, c.originInfo.join(',')];
  });
  assert.deepEqual(shapes, [
    [32, 'origin.example'],
    [0, 'origin.example'],
    [0, 'foo.example,bar.example'],
    [0, ''],
    [32, ''],
  ]);
});

interface HeaderVector {
  [field: string]: string | number;
  'WWW-Authenticate': string;
}

const headerVectors = readVectors<HeaderVector[]>('rfc9577-a-headers.json');

for (const [i, v] of headerVectors.entries()) {
  test(`RFC 9577 A vector ${i + 1}: every PrivateToken challenge in the header`, () => {
    const parsed = parseChallengeHeader(v['WWW-Authenticate']);
    const count = Object.keys(v).filter((k) => k.startsWith('token-challenge-')).length;
    assert.equal(parsed.length, count);
    for (const [j, p] of parsed.entries()) {
      assert.equal(toHex(p.challenge), v[`token-challenge-${j}`]);
      assert.equal(toHex(p.tokenKey), v[`token-key-${j}`]);
      assert.equal(p.maxAge, v[`max-age-${j}`]);
      assert.equal(decodeChallenge(p.challenge).tokenType, v[`token-type-${j}`]);
    }
    // Our own spelling of the first challenge reads back the same.
    const [first] = parsed;
    assert.ok(first);
    assert.deepEqual(parseChallengeHeader(formatChallengeHeader(first)), [first]);
  });
}

test('RFC 9577 A: the type 2 token key in the header vectors is the RFC 9578 key', () => {
  const [first] = parseChallengeHeader(headerVectors[0]!['WWW-Authenticate']);
  assert.ok(first);
  assert.equal(toHex(importTokenKey(first.tokenKey).spki), issuance[0]!.pkS);
});
