import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '@splitrelay/abuse-limits';
import { RelayError } from '@splitrelay/errors';
import {
  TOKEN_TYPE_BLIND_RSA,
  base64url,
  beginTokenRequest,
  encodeChallenge,
  formatTokenHeader,
  generateIssuerKeyPem,
  issueTokenResponse,
  loadIssuerKey,
  parseChallengeHeader,
} from '@splitrelay/privacy-pass';
import {
  SpentStoreUnavailableError,
  createMemorySpentTokenStore,
  type SpentTokenStore,
} from '@splitrelay/spent-tokens';
import { SessionAdmission } from '../src/admission.ts';
import { TokenKeyRing } from '../src/token-keys.ts';

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

function admissionWith(
  spent: SpentTokenStore = createMemorySpentTokenStore({ ttlMs: 86_400_000, maxEntries: 1000 }),
  rate?: RateLimiter,
): SessionAdmission {
  const keys = new TokenKeyRing(8 * 86400);
  assert.deepEqual(
    keys.add([
      { tokenKey: base64url(generated.tokenKey), notBefore: NOW - 10, notAfter: NOW + 86400 },
      // Expired: listed, but its window closed.
      { tokenKey: base64url(other.tokenKey), notBefore: NOW - 86400, notAfter: NOW - 1 },
    ]),
    [],
  );
  return new SessionAdmission({
    ...(rate ? { rate } : {}),
    privacyPass: { issuerName: ISSUER, origin: ORIGIN, keys, spent, maxHeaderChars: 1024 },
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
  const err = await refusal(admissionWith().admit('127.0.0.5', undefined));
  assert.equal(err.status, 407);
  assert.equal(err.code, 'token-required');
  const [offer] = parseChallengeHeader(err.headers['proxy-authenticate']!);
  assert.deepEqual(Buffer.from(offer!.challenge), Buffer.from(challengeFor()));
  assert.deepEqual(Buffer.from(offer!.tokenKey), Buffer.from(generated.tokenKey));
});

test('a good token opens one session; the same token again is refused as spent', async () => {
  const admission = admissionWith();
  const header = formatTokenHeader(await mintToken());
  await admission.admit('127.0.0.5', header);
  const again = await refusal(admission.admit('127.0.0.6', header));
  assert.equal(again.status, 407);
  assert.equal(again.details, 'token already spent');
  assert.equal(admission.counters.redeemed, 1);
});

test('each bad token is refused with its own reason', async () => {
  const admission = admissionWith();
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
    const err = await refusal(admission.admit('127.0.0.5', header));
    assert.equal(err.details, reason, header.slice(0, 40));
    assert.equal(err.status, 407);
    assert.ok(err.headers['proxy-authenticate']?.startsWith('PrivateToken '));
  }
  assert.equal(admission.counters.redeemed ?? 0, 0);
});

test('an unreachable spent-token store fails closed with 503', async () => {
  const down: SpentTokenStore = {
    healthy: false,
    claim: () => Promise.reject(new SpentStoreUnavailableError('down')),
    close: async () => {},
  };
  const err = await refusal(
    admissionWith(down).admit('127.0.0.5', formatTokenHeader(await mintToken())),
  );
  assert.equal(err.status, 503);
  assert.equal(err.code, 'auth-unavailable');
  assert.ok(err.retryAfterSeconds !== undefined);
});

test('the rate limit comes before any token work, per address', async () => {
  let clock = NOW * 1000;
  const rate = new RateLimiter({ ratePerSecond: 1, burst: 2, maxKeys: 100, now: () => clock });
  const admission = admissionWith(undefined, rate);
  for (let i = 0; i < 2; i++) {
    assert.equal((await refusal(admission.admit('127.0.0.5', undefined))).status, 407);
  }
  const limited = await refusal(admission.admit('127.0.0.5', formatTokenHeader(await mintToken())));
  assert.equal(limited.status, 429);
  assert.ok((limited.retryAfterSeconds ?? 0) >= 1);
  // Another address is not affected.
  assert.equal((await refusal(admission.admit('127.0.0.9', undefined))).status, 407);
  clock += 1000;
  assert.equal((await refusal(admission.admit('127.0.0.5', undefined))).status, 407);
});

test('keys living longer than the spent-token memory are refused', () => {
  const ring = new TokenKeyRing(3600);
  assert.deepEqual(
    ring.add([{ tokenKey: base64url(generated.tokenKey), notBefore: NOW, notAfter: NOW + 7200 }]),
    ['key outlives the spent-token store'],
  );
  assert.equal(ring.size, 0);
});
