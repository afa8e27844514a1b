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
import { z } from 'zod';
import { decodeBase64url } from '@splitrelay/directory';
import {
  MAX_TOKEN_KEY_CHARS,
  TOKEN_TYPE_BLIND_RSA,
  importTokenKey,
  isValidAt,
  type KeyAnnouncement,
} from '@splitrelay/privacy-pass';
import { RELAY_ID, RELAY_ID_RULE, isCanonicalHost } from '@splitrelay/authority';

/** RFC 9578 token type 0x0002: publicly verifiable Blind RSA (2048-bit modulus). */
export const ISSUER_TOKEN_TYPE = TOKEN_TYPE_BLIND_RSA;
/** Several keys overlap during a rotation; more than this is a configuration mistake. */
export const MAX_ISSUER_KEYS = 16;
/** Year 2286 in unix milliseconds / seconds: anything later is a unit mistake. */
const MAX_UNIX_MS = 10_000_000_000_000;
const MAX_UNIX_SECONDS = 10_000_000_000;

/**
 * Canonical unpadded base64url of exactly one RFC 9578 §6.5 token key (a 2048-bit RSASSA-PSS
 * SubjectPublicKeyInfo, checked byte for byte by the Privacy Pass codec), so no announcement
 * can carry a key an ingress would not use, or bytes hidden after one.
 */
export function isTokenKey(text: string): boolean {
  if (text.length > MAX_TOKEN_KEY_CHARS) return false;
  const der = decodeBase64url(text);
  if (der === undefined) return false;
  try {
    importTokenKey(der);
    return true;
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
  return message.keys.filter((k) => isValidAt(k, nowSeconds));
}

/**
 * An issuer's announcement of its keys (issuing now or later, newest first), or undefined when
 * none is left to announce. `sentAtMs` orders one issuer's announcements.
 */
export function issuerKeysMessage(
  issuerId: string,
  issuerName: string,
  sentAtMs: number,
  keys: readonly KeyAnnouncement[],
): IssuerKeysMessage | undefined {
  if (keys.length === 0) return undefined;
  return {
    v: 1,
    issuerId,
    issuerName,
    sentAt: Math.floor(sentAtMs),
    keys: keys.map((k) => ({ tokenType: ISSUER_TOKEN_TYPE, ...k })),
  };
}
