/**
 * Privacy Pass tokens for tests, made the way a client makes them (blinded, through the real
 * issuer app) or minted directly with a key the test holds (for keys the issuer never had).
 */
import https from 'node:https';
import { readFileSync } from 'node:fs';
import {
  MEDIA_TYPES,
  TOKEN_TYPE_BLIND_RSA,
  beginTokenRequest,
  decodeTokenBatch,
  encodeChallenge,
  encodeTokenBatch,
  issueTokenResponse,
  type IssuerKey,
} from '@splitrelay/privacy-pass';
import { INGRESS_NAME, ISSUER_NAME, type World } from './world.ts';

/** The challenge the world's ingress sends (static: no redemption context). */
export function worldChallenge(origin = INGRESS_NAME): Uint8Array {
  return encodeChallenge({
    tokenType: TOKEN_TYPE_BLIND_RSA,
    issuerName: ISSUER_NAME,
    redemptionContext: new Uint8Array(0),
    originInfo: [origin],
  });
}

/** POSTs to the world's issuer; resolves status, headers and body. */
export function issuerPost(
  world: World,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<{ status: number; body: Buffer }> {
  const url = new URL('/token-request', world.issuerUrl);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        ca: readFileSync(world.deployment.caCert, 'utf8'),
        servername: ISSUER_NAME,
        headers: { 'content-length': String(body.length), ...headers },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `n` tokens from the world's issuer for its ingress's challenge, as the subscriber. */
export async function tokensFromIssuer(
  world: World,
  n: number,
  challenge = worldChallenge(),
): Promise<Uint8Array[]> {
  const issuer = world.deployment.issuer;
  if (!issuer) throw new Error('the world has no issuer');
  const tokenKey = Buffer.from(issuer.tokenKey, 'base64url');
  const pending = await Promise.all(
    Array.from({ length: n }, () => beginTokenRequest(challenge, tokenKey)),
  );
  const res = await issuerPost(world, encodeTokenBatch(pending.map((p) => p.request)), {
    authorization: `Bearer ${issuer.credential}`,
    'content-type': MEDIA_TYPES.requestBatch,
  });
  if (res.status !== 200) throw new Error(`issuer answered ${res.status}: ${res.body.toString()}`);
  const responses = decodeTokenBatch(res.body, n);
  return Promise.all(pending.map((p, i) => p.finalize(responses[i]!)));
}

/** A token signed directly with `key` (one the issuer may not even know). */
export async function mintToken(key: IssuerKey, challenge = worldChallenge()): Promise<Uint8Array> {
  const pending = await beginTokenRequest(challenge, key.tokenKey.spki);
  return pending.finalize(await issueTokenResponse(pending.request, [key]));
}
