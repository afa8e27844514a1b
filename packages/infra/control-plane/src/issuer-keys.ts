/**
 * The Privacy Pass issuer's public keys, announced to the ingresses of its own operator so they
 * know which tokens to accept. The family lives in the INGRESS account only
 * (`splitrelay.private.ingress.issuer-keys.<issuerId>`) and crosses nothing, but it gets the
 * same strict treatment as the families that do: no key but those named, no free text.
 *
 *   { v: 1, issuerId, issuerName, sentAt,
 *     keys: [{ tokenType: 2, tokenKey: base64url(SPKI), notBefore, notAfter }] }
 *
 * tokenKey is the RFC 9578 §6.5 Token Key: the RSASSA-PSS SubjectPublicKeyInfo of a 2048-bit
 * RSA key (token type 0x0002, Blind RSA), the same bytes the issuer directory lists.
 */
import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { decodeBase64url } from '@splitrelay/directory';
import { RELAY_ID, RELAY_ID_RULE, isCanonicalHost } from '@splitrelay/authority';

/** RFC 9578 token type 0x0002: publicly verifiable Blind RSA (2048-bit modulus). */
export const ISSUER_TOKEN_TYPE = 2;
/** A 2048-bit RSA(-PSS) SPKI is about 300-350 bytes; this leaves room and nothing more. */
export const MAX_TOKEN_KEY_CHARS = 700;
/** Several keys overlap during a rotation; more than this is a configuration mistake. */
export const MAX_ISSUER_KEYS = 16;
const RSA_MODULUS_BITS = 2048;
/** Year 2286 in unix milliseconds / seconds: anything later is a unit mistake. */
const MAX_UNIX_MS = 10_000_000_000_000;
const MAX_UNIX_SECONDS = 10_000_000_000;

/** Length of a DER SEQUENCE with its header, or undefined if `der` does not start with one. */
function derSequenceLength(der: Uint8Array): number | undefined {
  if (der.length < 2 || der[0] !== 0x30) return undefined;
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 2 || der.length < 2 + n) return undefined;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + der[2 + i]!;
  return 2 + n + length;
}

/**
 * Canonical unpadded base64url of exactly one DER SubjectPublicKeyInfo of a 2048-bit RSA key
 * with the RSASSA-PSS OID (RFC 9578 §6.5). OpenSSL ignores bytes after the SPKI, so they are
 * refused here, or they would be a place to hide anything.
 */
export function isTokenKey(text: string): boolean {
  if (text.length > MAX_TOKEN_KEY_CHARS) return false;
  const der = decodeBase64url(text);
  if (der === undefined || derSequenceLength(der) !== der.length) return false;
  try {
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    return (
      key.asymmetricKeyType === 'rsa-pss' &&
      key.asymmetricKeyDetails?.modulusLength === RSA_MODULUS_BITS
    );
  } catch {
    return false;
  }
}

const unixSeconds = z.int().min(0).max(MAX_UNIX_SECONDS);

export const issuerKeySchema = z
  .strictObject({
    tokenType: z.literal(ISSUER_TOKEN_TYPE),
    tokenKey: z
      .string()
      .max(MAX_TOKEN_KEY_CHARS)
      .refine(isTokenKey, 'must be base64url of one 2048-bit RSASSA-PSS SubjectPublicKeyInfo'),
    /** Unix seconds; the key issues and redeems from notBefore (inclusive) to notAfter (exclusive). */
    notBefore: unixSeconds,
    notAfter: unixSeconds,
  })
  .refine(
    (k) =>
      !Number.isInteger(k.notBefore) || !Number.isInteger(k.notAfter) || k.notBefore < k.notAfter,
    { message: 'must be after notBefore', path: ['notAfter'] },
  );

export const issuerKeysMessageSchema = z
  .strictObject({
    v: z.literal(1),
    issuerId: z.string().regex(RELAY_ID, RELAY_ID_RULE),
    /** The issuer name clients put in their challenges: a DNS name as authority spells it. */
    issuerName: z
      .string()
      .max(253)
      .refine((s) => isCanonicalHost(s, 'dns'), 'must be a lower-case DNS name'),
    /** Unix milliseconds on the issuer's clock; orders one issuer's announcements. */
    sentAt: z.int().min(0).max(MAX_UNIX_MS),
    keys: z.array(issuerKeySchema).min(1).max(MAX_ISSUER_KEYS),
  })
  .refine(
    // zod runs this even when a field already failed: judge only what is sound.
    (m) => !Array.isArray(m.keys) || new Set(m.keys.map((k) => k?.tokenKey)).size === m.keys.length,
    { message: 'lists a token key twice', path: ['keys'] },
  );

export type IssuerKey = z.output<typeof issuerKeySchema>;
export type IssuerKeysMessage = z.output<typeof issuerKeysMessageSchema>;

/** The announced keys valid at `nowSeconds` (what an ingress accepts tokens of). */
export function issuerKeysValidAt(
  message: IssuerKeysMessage,
  nowSeconds: number,
): readonly IssuerKey[] {
  return message.keys.filter((k) => k.notBefore <= nowSeconds && nowSeconds < k.notAfter);
}
