/**
 * Issuance end to end with generated keys: client ↔ issuer ↔ verifier, the issuer's choice
 * among keys, and every way a request, a response or a key can be wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import {
  TOKEN_REQUEST_LENGTH,
  beginTokenRequest,
  challengeDigest,
  decodeToken,
  encodeChallenge,
  formatChallengeHeader,
  formatTokenHeader,
  generateIssuerKeyPem,
  importTokenKey,
  issueTokenResponse,
  loadIssuerKey,
  parseChallengeHeader,
  parseTokenHeader,
  verifyToken,
  type IssuerKey,
  type TokenChallenge,
} from '../src/index.ts';
import { rejectsReason, rsaPssKeyPair } from './helpers.ts';

const challenge: TokenChallenge = {
  tokenType: 2,
  issuerName: 'issuer.splitrelay.test',
  redemptionContext: new Uint8Array(32).fill(1),
  originInfo: ['ingress.splitrelay.test'],
};
const encodedChallenge = encodeChallenge(challenge);

const generated = [generateIssuerKeyPem(), generateIssuerKeyPem()];
// Two keys with different truncated ids, so only the tests that mean to collide do.
while (truncated(generated[1]!.tokenKey) === truncated(generated[0]!.tokenKey)) {
  generated[1] = generateIssuerKeyPem();
}
const issuerKeys: IssuerKey[] = await Promise.all(
  generated.map((g) => loadIssuerKey(g.privateKeyPem)),
);
const [keyA, keyB] = issuerKeys as [IssuerKey, IssuerKey];

test('generateIssuerKeyPem: PKCS#8 PEM, RSA 2048, e = 65537, token key matches the private key', async () => {
  const g = generated[0]!;
  assert.match(g.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.deepEqual(keyA.tokenKey.spki, g.tokenKey);
  assert.equal(keyA.privateKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.equal(keyA.privateKey.asymmetricKeyDetails?.publicExponent, 65537n);
});

test('full round trip: the challenge header, issuance, the token header, verification', async () => {
  const header = formatChallengeHeader({
    challenge: encodedChallenge,
    tokenKey: keyA.tokenKey.spki,
    maxAge: 60,
  });
  const [offer] = parseChallengeHeader(header);
  assert.ok(offer);
  const pending = await beginTokenRequest(offer.challenge, offer.tokenKey);
  assert.equal(pending.request.length, TOKEN_REQUEST_LENGTH);
  const response = await issueTokenResponse(pending.request, issuerKeys);
  const encoded = await pending.finalize(response);
  const token = decodeToken(parseTokenHeader(formatTokenHeader(encoded)));
  assert.deepEqual(token.challengeDigest, challengeDigest(encodedChallenge));
  assert.deepEqual(token.tokenKeyId, keyA.tokenKey.id);
  assert.equal(verifyToken(token, importTokenKey(offer.tokenKey)), true);
  assert.equal(
    verifyToken(token, keyB.tokenKey),
    false,
    'a token for key A does not verify under key B',
  );
});

test('tokens are unlinkable to their requests: fresh nonce and blinding each time', async () => {
  const a = await beginTokenRequest(encodedChallenge, keyA.tokenKey.spki);
  const b = await beginTokenRequest(encodedChallenge, keyA.tokenKey.spki);
  assert.notDeepEqual(a.request, b.request);
  const ta = decodeToken(await a.finalize(await issueTokenResponse(a.request, issuerKeys)));
  assert.notDeepEqual(ta.nonce, new Uint8Array(32));
  // The token's authenticator appears nowhere in what the issuer saw.
  const seen = Buffer.from(a.request).toString('hex');
  assert.ok(!seen.includes(Buffer.from(ta.authenticator.subarray(0, 16)).toString('hex')));
});

test('a token verifies only under the key it names, and not once altered', async () => {
  const p = await beginTokenRequest(encodedChallenge, keyB.tokenKey.spki);
  const token = decodeToken(await p.finalize(await issueTokenResponse(p.request, issuerKeys)));
  assert.equal(verifyToken(token, keyB.tokenKey), true);
  assert.equal(verifyToken(token, keyA.tokenKey), false);
  // Claiming key A's id with key B's signature: still no.
  assert.equal(verifyToken({ ...token, tokenKeyId: keyA.tokenKey.id }, keyA.tokenKey), false);
  assert.equal(verifyToken({ ...token, tokenType: 1 }, keyB.tokenKey), false);
  assert.equal(
    verifyToken({ ...token, authenticator: token.authenticator.subarray(1) }, keyB.tokenKey),
    false,
  );
  assert.equal(verifyToken({ ...token, nonce: new Uint8Array(31) }, keyB.tokenKey), false);
  assert.equal(verifyToken({ ...token, authenticator: new Uint8Array(256) }, keyB.tokenKey), false);
  assert.equal(
    verifyToken({ ...token, authenticator: new Uint8Array(256).fill(0xff) }, keyB.tokenKey),
    false,
  );
});

test('issueTokenResponse: unknown truncated id is unknown-key; bad requests are malformed or unsupported-type', async () => {
  const p = await beginTokenRequest(encodedChallenge, keyA.tokenKey.spki);
  const others = issuerKeys.filter((k) => k.tokenKey.truncatedId !== keyA.tokenKey.truncatedId);
  await rejectsReason(issueTokenResponse(p.request, others), 'unknown-key');
  await rejectsReason(issueTokenResponse(p.request, []), 'unknown-key');
  await rejectsReason(issueTokenResponse(p.request.subarray(0, 100), issuerKeys), 'malformed');
  await rejectsReason(
    issueTokenResponse(new Uint8Array([...p.request, 0]), issuerKeys),
    'malformed',
  );
  await rejectsReason(issueTokenResponse(new Uint8Array(0), issuerKeys), 'malformed');
  const type1 = p.request.slice();
  type1[1] = 1;
  await rejectsReason(issueTokenResponse(type1, issuerKeys), 'unsupported-type');
  // A blinded message at or above the modulus cannot be signed.
  const tooBig = p.request.slice();
  tooBig.fill(0xff, 3);
  await rejectsReason(issueTokenResponse(tooBig, [keyA]), 'malformed');
});

test('issueTokenResponse: keys sharing a truncated id are each tried (RFC 9578 §6.2)', async () => {
  // A key that cannot produce a signature that checks (its private half is another key's)
  // under key A's truncated id: the issuer moves on to the next candidate.
  const broken: IssuerKey = { tokenKey: keyA.tokenKey, privateKey: keyB.privateKey };
  const p = await beginTokenRequest(encodedChallenge, keyA.tokenKey.spki);
  const response = await issueTokenResponse(p.request, [broken, keyB, keyA]);
  assert.equal(verifyToken(decodeToken(await p.finalize(response)), keyA.tokenKey), true);
  // Only keys that cannot sign match: malformed, not unknown-key.
  await rejectsReason(issueTokenResponse(p.request, [broken, keyB]), 'malformed');
  // A real collision signs with the first key that can: the truncated id cannot tell them
  // apart, so the client's finalize is what notices a wrong guess.
  const twin: IssuerKey = {
    tokenKey: { ...keyB.tokenKey, truncatedId: keyA.tokenKey.truncatedId },
    privateKey: keyB.privateKey,
  };
  const m = BigInt('0x' + Buffer.from(p.request.subarray(3)).toString('hex'));
  const response2 = await issueTokenResponse(p.request, [twin, keyA]);
  if (m < modulus(keyB)) await rejectsReason(p.finalize(response2), 'malformed');
  else assert.deepEqual(response2, response);
});

test('finalize: a response that does not verify is malformed', async () => {
  const p = await beginTokenRequest(encodedChallenge, keyA.tokenKey.spki);
  const good = await issueTokenResponse(p.request, issuerKeys);
  const flipped = good.slice();
  flipped[100]! ^= 1;
  await rejectsReason(p.finalize(flipped), 'malformed');
  await rejectsReason(p.finalize(good.subarray(1)), 'malformed');
  await rejectsReason(p.finalize(new Uint8Array(256)), 'malformed');
  // Signed by the wrong key (same request bytes, other issuer).
  const other = await beginTokenRequest(encodedChallenge, keyB.tokenKey.spki);
  await rejectsReason(p.finalize(await issueTokenResponse(other.request, issuerKeys)), 'malformed');
  // The good one still finalizes afterwards.
  assert.equal(decodeToken(await p.finalize(good)).tokenType, 2);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 256, maxLength: 256 }), async (junk) => {
      await rejectsReason(p.finalize(junk), 'malformed');
    }),
    { numRuns: 20 },
  );
});

test('beginTokenRequest: bad challenge, other token type, bad key', async () => {
  await rejectsReason(
    beginTokenRequest(encodedChallenge.subarray(0, 5), keyA.tokenKey.spki),
    'malformed',
  );
  await rejectsReason(
    beginTokenRequest(encodeChallenge({ ...challenge, tokenType: 1 }), keyA.tokenKey.spki),
    'unsupported-type',
  );
  await rejectsReason(
    beginTokenRequest(encodedChallenge, keyA.tokenKey.spki.subarray(1)),
    'bad-key',
  );
});

test('loadIssuerKey: anything but an unencrypted 2048-bit RSA private key is bad-key', async () => {
  const pem = (k: KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1' = 'pkcs8') =>
    k.export({ type, format: 'pem' }).toString();
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const ed = generateKeyPairSync('ed25519').privateKey;
  const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' })
    .toString();
  for (const bad of [
    '',
    'not a key',
    pem(rsa1024),
    pem(rsa3072),
    pem(ec),
    pem(ed),
    encrypted,
    generated[0]!.privateKeyPem.replace('M', 'N'),
    generated[0]!.privateKeyPem.slice(0, 200),
  ]) {
    await rejectsReason(loadIssuerKey(bad), 'bad-key');
  }
});

test('loadIssuerKey: PKCS#1 and RSASSA-PSS PKCS#8 forms load to the same token key', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const fromPkcs8 = await loadIssuerKey(
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  const fromPkcs1 = await loadIssuerKey(
    privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  );
  assert.deepEqual(fromPkcs1.tokenKey.spki, fromPkcs8.tokenKey.spki);

  const pss = rsaPssKeyPair();
  const fromPss = await loadIssuerKey(
    pss.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  assert.equal(fromPss.privateKey.asymmetricKeyType, 'rsa');
  const p = await beginTokenRequest(encodedChallenge, fromPss.tokenKey.spki);
  const token = decodeToken(await p.finalize(await issueTokenResponse(p.request, [fromPss])));
  assert.equal(verifyToken(token, fromPss.tokenKey), true);
});

test('micro-measure: verifyToken and issueTokenResponse cost per call (printed, not asserted)', async () => {
  const p = await beginTokenRequest(encodedChallenge, keyA.tokenKey.spki);
  const token = decodeToken(await p.finalize(await issueTokenResponse(p.request, issuerKeys)));
  const bad = { ...token, authenticator: token.authenticator.slice().fill(7) };
  for (let i = 0; i < 200; i++) verifyToken(token, keyA.tokenKey); // warm up
  const n = 2000;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) assert.equal(verifyToken(token, keyA.tokenKey), true);
  const goodUs = ((performance.now() - t0) * 1000) / n;
  t0 = performance.now();
  for (let i = 0; i < n; i++) assert.equal(verifyToken(bad, keyA.tokenKey), false);
  const badUs = ((performance.now() - t0) * 1000) / n;
  const m = 100;
  t0 = performance.now();
  for (let i = 0; i < m; i++) await issueTokenResponse(p.request, issuerKeys);
  const issueUs = ((performance.now() - t0) * 1000) / m;
  console.log(
    `verifyToken: ${goodUs.toFixed(1)} µs/call (valid), ${badUs.toFixed(1)} µs/call (invalid); ` +
      `issueTokenResponse: ${issueUs.toFixed(0)} µs/call`,
  );
});

function truncated(spki: Uint8Array): number {
  return importTokenKey(spki).truncatedId;
}

function modulus(k: IssuerKey): bigint {
  const n = k.tokenKey.publicKey.export({ format: 'jwk' }).n ?? '';
  return BigInt('0x' + Buffer.from(n, 'base64url').toString('hex'));
}
