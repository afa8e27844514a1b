/**
 * Interoperability with @cloudflare/privacypass-ts, the reference implementation: a token this
 * package blinds and finalizes verifies there, and a token request that library blinds is
 * signed here and finalizes there. (This package blinds with node:crypto, ~20× faster.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publicVerif, Token, TokenChallenge, TOKEN_TYPES } from '@cloudflare/privacypass-ts';
import {
  beginTokenRequest,
  decodeToken,
  encodeChallenge,
  generateIssuerKeyPem,
  issueTokenResponse,
  loadIssuerKey,
  verifyToken,
} from '../src/index.ts';

const generated = generateIssuerKeyPem();
const key = await loadIssuerKey(generated.privateKeyPem);
const challenge = encodeChallenge({
  tokenType: 2,
  issuerName: 'issuer.splitrelay.test',
  redemptionContext: new Uint8Array(0),
  originInfo: ['ingress.splitrelay.test'],
});
const libraryPublicKey = key.tokenKey.publicKey.toCryptoKey(
  { name: 'RSA-PSS', hash: 'SHA-384' },
  true,
  ['verify'],
);

test('a token made here verifies with @cloudflare/privacypass-ts', async () => {
  for (let i = 0; i < 5; i++) {
    const pending = await beginTokenRequest(challenge, generated.tokenKey);
    const token = await pending.finalize(await issueTokenResponse(pending.request, [key]));
    const parsed = Token.deserialize(TOKEN_TYPES.BLIND_RSA, token);
    assert.equal(
      await new publicVerif.Origin(publicVerif.BlindRSAMode.PSS).verify(parsed, libraryPublicKey),
      true,
    );
  }
});

test('a request blinded by @cloudflare/privacypass-ts is signed here and verifies here', async () => {
  const client = new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
  const request = await client.createTokenRequest(
    TokenChallenge.deserialize(challenge),
    generated.tokenKey,
  );
  const response = await issueTokenResponse(request.serialize(), [key]);
  const token = await client.finalize(new publicVerif.TokenResponse(response));
  assert.equal(verifyToken(decodeToken(token.serialize()), key.tokenKey), true);
});
