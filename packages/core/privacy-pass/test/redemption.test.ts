/**
 * Redemption at the ingress, against a ledger double (a Set): the order of the checks, each
 * refusal with its reason and a fresh challenge, and failing closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { RelayError } from '@splitrelay/errors';
import {
  TOKEN_TYPE_BLIND_RSA,
  TokenKeyRing,
  TokenRedeemer,
  base64url,
  beginTokenRequest,
  encodeChallenge,
  formatTokenHeader,
  generateIssuerKeyPem,
  issueTokenResponse,
  loadIssuerKey,
  parseChallengeHeader,
  type SpentTokenLedger,
} from '../src/index.ts';

const NOW = 1_800_000_000;
const ISSUER = 'issuer.splitrelay.test';
const ORIGIN = 'ingress.splitrelay.test';
const generated = generateIssuerKeyPem();
const issuerKey = await loadIssuerKey(generated.privateKeyPem);
const other = generateIssuerKeyPem();
const otherKey = await loadIssuerKey(other.privateKeyPem);

function challengeFor(issuerName = ISSUER, origin = ORIGIN): Uint8Array {
  return encodeChallenge({
    tokenType: TOKEN_TYPE_BLIND_RSA,
    issuerName,
    redemptionContext: new Uint8Array(0),
    originInfo: [origin],
  });
}

async function mintToken(challenge = challengeFor(), key = issuerKey): Promise<Uint8Array> {
  const pending = await beginTokenRequest(challenge, key.tokenKey.spki);
  return pending.finalize(await issueTokenResponse(pending.request, [key]));
}

/** The fleet-wide record, as a Set; `claims` counts what reached it. */
function ledger(): SpentTokenLedger & { claims: number } {
  const seen = new Set<string>();
  return {
    claims: 0,
    async claim(keyId, nonce) {
      this.claims++;
      const key = `${Buffer.from(keyId).toString('hex')}.${Buffer.from(nonce).toString('hex')}`;
      if (seen.has(key)) return 'spent';
      seen.add(key);
      return 'fresh';
    },
  };
}

function redeemerWith(spent: SpentTokenLedger = ledger()): TokenRedeemer {
  const keys = new TokenKeyRing(8 * 86400);
  assert.deepEqual(
    keys.add([
      { tokenKey: base64url(generated.tokenKey), notBefore: NOW - 10, notAfter: NOW + 86400 },
      // Expired: listed, but its window closed.
      { tokenKey: base64url(other.tokenKey), notBefore: NOW - 86400, notAfter: NOW - 1 },
    ]),
    [],
  );
  return new TokenRedeemer({
    issuerName: ISSUER,
    origin: ORIGIN,
    keys,
    spent,
    maxHeaderChars: 1024,
    now: () => NOW * 1000,
  });
}

async function refusal(p: Promise<void>): Promise<RelayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RelayError);
    return err;
  }
  assert.fail('admitted');
}

test('no token: 407 with a challenge naming the current key', async () => {
  const err = await refusal(redeemerWith().redeem(undefined));
  assert.equal(err.status, 407);
  assert.equal(err.code, 'token-required');
  const [offer] = parseChallengeHeader(err.headers['proxy-authenticate']!);
  assert.deepEqual(Buffer.from(offer!.challenge), Buffer.from(challengeFor()));
  assert.deepEqual(Buffer.from(offer!.tokenKey), Buffer.from(generated.tokenKey));
});

test('a good token opens one session; the same token again is refused as spent', async () => {
  const admission = redeemerWith();
  const header = formatTokenHeader(await mintToken());
  await admission.redeem(header);
  const again = await refusal(admission.redeem(header));
  assert.equal(again.status, 407);
  assert.equal(again.details, 'token already spent');
  assert.equal(admission.counters.redeemed, 1);
});

test('each bad token is refused with its own reason, and none reaches the ledger', async () => {
  const spent = ledger();
  const admission = redeemerWith(spent);
  const cases: [string, string][] = [
    ['PrivateToken token="AAAA"', 'malformed token'],
    ['Basic dXNlcjpwYXNz', 'malformed token'],
    ['PrivateToken token=' + 'A'.repeat(2000), 'malformed token'],
    [
      formatTokenHeader(await mintToken(challengeFor(ISSUER, 'elsewhere.test'))),
      'token is for another challenge',
    ],
    [formatTokenHeader(await mintToken(challengeFor(), otherKey)), 'expired token key'],
  ];
  const unknown = await loadIssuerKey(generateIssuerKeyPem().privateKeyPem);
  cases.push([formatTokenHeader(await mintToken(challengeFor(), unknown)), 'unknown token key']);
  const forged = await mintToken();
  forged[forged.length - 1]! ^= 1;
  cases.push([formatTokenHeader(forged), 'token signature does not verify']);
  for (const [header, reason] of cases) {
    const err = await refusal(admission.redeem(header));
    assert.equal(err.details, reason, header.slice(0, 40));
    assert.equal(err.status, 407);
    assert.ok(err.headers['proxy-authenticate']?.startsWith('PrivateToken '));
  }
  assert.equal(admission.counters.redeemed ?? 0, 0);
  // Cheapest checks first: a forged, foreign or malformed token never costs a ledger claim.
  assert.equal(spent.claims, 0);
  await admission.redeem(formatTokenHeader(await mintToken()));
  assert.equal(spent.claims, 1, 'the spy sees a claim for a genuine token');
});

test('a ledger that cannot answer fails closed with 503; another error is not swallowed', async () => {
  const down: SpentTokenLedger = {
    claim: () => Promise.reject(new RelayError('auth-unavailable', 'store down')),
  };
  const err = await refusal(redeemerWith(down).redeem(formatTokenHeader(await mintToken())));
  assert.equal(err.status, 503);
  assert.equal(err.code, 'auth-unavailable');
  assert.equal(err.details, 'token store unavailable; redemption fails closed');
  assert.ok(err.retryAfterSeconds !== undefined);
  const broken: SpentTokenLedger = { claim: () => Promise.reject(new TypeError('bug')) };
  await assert.rejects(
    redeemerWith(broken).redeem(formatTokenHeader(await mintToken())),
    TypeError,
  );
});

test('with no valid key at all, a refusal is 503 rather than a challenge no token can meet', async () => {
  const keys = new TokenKeyRing(8 * 86400);
  const redeemer = new TokenRedeemer({
    issuerName: ISSUER,
    origin: ORIGIN,
    keys,
    spent: ledger(),
    maxHeaderChars: 1024,
    now: () => NOW * 1000,
  });
  const err = await refusal(redeemer.redeem(undefined));
  assert.equal(err.status, 503);
  assert.equal(err.details, 'no issuer key is valid now');
});

test('keys living longer than the spent-token memory are refused', () => {
  const ring = new TokenKeyRing(3600);
  assert.deepEqual(
    ring.add([{ tokenKey: base64url(generated.tokenKey), notBefore: NOW, notAfter: NOW + 7200 }]),
    ['key outlives the spent-token store'],
  );
  assert.equal(ring.size, 0);
});
