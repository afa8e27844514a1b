/**
 * The PrivateToken HTTP authentication scheme (RFC 9577 §2.1, §2.2), carried here in
 * Proxy-Authenticate / Proxy-Authorization:
 *
 *   Proxy-Authenticate:  PrivateToken challenge="<b64url TokenChallenge>",
 *                        token-key="<b64url SPKI>"[, max-age=<seconds>]
 *   Proxy-Authorization: PrivateToken token="<b64url Token>"
 *
 * Values are base64url, read with or without '=' padding, written without. Unknown params
 * are ignored (RFC 9577 §2.1: "Clients MUST ignore unknown parameters"); a repeated param
 * name in one challenge is malformed (RFC 9110 §11.2: each name occurs once).
 */
import { parseAuthHeader, type AuthChallenge } from './auth-params.ts';
import { base64url, fromBase64url } from './base64url.ts';
import { PrivacyPassError } from './errors.ts';

export const AUTH_SCHEME = 'PrivateToken';

export interface ChallengeParams {
  challenge: Uint8Array;
  tokenKey: Uint8Array;
  /** Seconds the challenge may be reused (RFC 9577 §2.1.2). */
  maxAge?: number;
}

/** Default bound on a Proxy-Authenticate value, in characters. */
export const MAX_CHALLENGE_HEADER_LENGTH = 16384;
/** Default bound on a Proxy-Authorization value, in characters (a type 2 token is 484). */
export const MAX_TOKEN_HEADER_LENGTH = 2048;
/** max-age above this (about 68 years) is refused rather than rounded. */
const MAX_AGE_LIMIT = 2 ** 31 - 1;

export function formatChallengeHeader(p: ChallengeParams): string {
  let out = `${AUTH_SCHEME} challenge="${base64url(p.challenge)}", token-key="${base64url(p.tokenKey)}"`;
  if (p.maxAge !== undefined) {
    if (!Number.isInteger(p.maxAge) || p.maxAge < 0 || p.maxAge > MAX_AGE_LIMIT) {
      throw new PrivacyPassError('malformed');
    }
    out += `, max-age=${p.maxAge}`;
  }
  return out;
}

/**
 * Every PrivateToken challenge in a (possibly comma-joined) challenge header, in order.
 * Other schemes are skipped; a PrivateToken challenge that lacks `challenge` or `token-key`,
 * repeats a param, or carries bad base64url or max-age throws 'malformed'. A header that is
 * not valid RFC 9110 syntax anywhere throws 'malformed' too: past a syntax error nothing
 * says where the next challenge starts.
 */
export function parseChallengeHeader(
  value: string,
  maxLength = MAX_CHALLENGE_HEADER_LENGTH,
): ChallengeParams[] {
  if (typeof value !== 'string') throw new PrivacyPassError('malformed');
  if (value.length > maxLength) throw new PrivacyPassError('too-large');
  const out: ChallengeParams[] = [];
  for (const c of parseAuthHeader(value)) {
    if (c.scheme !== 'privatetoken') continue;
    const params = uniqueParams(c);
    const challenge = params.get('challenge');
    const tokenKey = params.get('token-key');
    if (challenge === undefined || tokenKey === undefined) throw new PrivacyPassError('malformed');
    const parsed: ChallengeParams = {
      challenge: fromBase64url(challenge),
      tokenKey: fromBase64url(tokenKey),
    };
    const maxAge = params.get('max-age');
    if (maxAge !== undefined) parsed.maxAge = parseMaxAge(maxAge);
    if (parsed.challenge.length === 0 || parsed.tokenKey.length === 0) {
      throw new PrivacyPassError('malformed');
    }
    out.push(parsed);
  }
  return out;
}

export function formatTokenHeader(token: Uint8Array): string {
  return `${AUTH_SCHEME} token="${base64url(token)}"`;
}

/**
 * The token bytes from a `PrivateToken token="…"` credentials value. The length bound is
 * checked before anything else is looked at. Wrong scheme, more than one credentials,
 * a token68 form, a missing or repeated `token`, or bad base64url: 'malformed'.
 */
export function parseTokenHeader(value: string, maxLength = MAX_TOKEN_HEADER_LENGTH): Uint8Array {
  if (typeof value !== 'string') throw new PrivacyPassError('malformed');
  if (value.length > maxLength) throw new PrivacyPassError('too-large');
  const credentials = parseAuthHeader(value);
  const only = credentials[0];
  if (credentials.length !== 1 || only === undefined || only.scheme !== 'privatetoken') {
    throw new PrivacyPassError('malformed');
  }
  const token = uniqueParams(only).get('token');
  if (token === undefined) throw new PrivacyPassError('malformed');
  const bytes = fromBase64url(token);
  if (bytes.length === 0) throw new PrivacyPassError('malformed');
  return bytes;
}

function uniqueParams(c: AuthChallenge): Map<string, string> {
  if (c.token68 !== undefined) throw new PrivacyPassError('malformed');
  const map = new Map<string, string>();
  for (const [name, value] of c.params) {
    if (map.has(name)) throw new PrivacyPassError('malformed');
    map.set(name, value);
  }
  return map;
}

function parseMaxAge(s: string): number {
  if (s.length === 0 || s.length > 10) throw new PrivacyPassError('malformed');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) throw new PrivacyPassError('malformed');
  }
  const n = Number(s);
  if (n > MAX_AGE_LIMIT) throw new PrivacyPassError('malformed');
  return n;
}
