/**
 * The request header, HPKE info and response keys shared by the two sides, RFC 9458 §4.
 *
 *   Encapsulated Request {                Encapsulated Response {
 *     Key Identifier (8),                   Nonce (8 * max(Nn, Nk)),
 *     HPKE KEM ID (16),                     AEAD-Protected Response (..),
 *     HPKE KDF ID (16),                   }
 *     HPKE AEAD ID (16),
 *     Encapsulated KEM Shared Secret (8 * Nenc),
 *     HPKE-Protected Request (..),
 *   }
 *
 *   hdr  = key_id (1) || kem_id (2) || kdf_id (2) || aead_id (2)
 *   info = "message/bhttp request" || 0x00 || hdr                               (§4.3)
 *   secret = context.Export("message/bhttp response", max(Nn, Nk))            (§4.4)
 *   salt = enc || response_nonce; prk = Extract(salt, secret)
 *   key = Expand(prk, "key", Nk); nonce = Expand(prk, "nonce", Nn)
 *
 * The chunked variant (draft-ietf-ohai-chunked-ohttp §6) uses the same construction with the
 * labels "message/bhttp chunked request" and "message/bhttp chunked response".
 */
import {
  createSuite,
  isSupportedSuite,
  type HpkeSuite,
  type Rng,
  type SuiteIds,
} from '@splitrelay/hpke';

export const HEADER_LENGTH = 7;

export interface Labels {
  readonly request: string;
  readonly response: string;
}

export const BHTTP_LABELS: Labels = Object.freeze({
  request: 'message/bhttp request',
  response: 'message/bhttp response',
});

export const CHUNKED_BHTTP_LABELS: Labels = Object.freeze({
  request: 'message/bhttp chunked request',
  response: 'message/bhttp chunked response',
});

export const MEDIA_TYPES = Object.freeze({
  request: 'message/ohttp-req',
  response: 'message/ohttp-res',
  chunkedRequest: 'message/ohttp-chunked-req',
  chunkedResponse: 'message/ohttp-chunked-res',
  keys: 'application/ohttp-keys',
});

export interface RequestHeader extends SuiteIds {
  readonly keyId: number;
}

export function encodeHeader(h: RequestHeader): Uint8Array {
  return Uint8Array.of(
    h.keyId,
    h.kemId >> 8,
    h.kemId & 0xff,
    h.kdfId >> 8,
    h.kdfId & 0xff,
    h.aeadId >> 8,
    h.aeadId & 0xff,
  );
}

export function decodeHeader(bytes: Uint8Array): RequestHeader {
  const u16 = (at: number) => ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
  return { keyId: bytes[0] as number, kemId: u16(1), kdfId: u16(3), aeadId: u16(5) };
}

const encoder = new TextEncoder();

export function requestInfo(label: string, hdr: Uint8Array): Uint8Array {
  const l = encoder.encode(label);
  const info = new Uint8Array(l.length + 1 + hdr.length);
  info.set(l, 0);
  info.set(hdr, l.length + 1);
  return info;
}

export function ascii(s: string): Uint8Array {
  return encoder.encode(s);
}

const KEY_LABEL = ascii('key');
const NONCE_LABEL = ascii('nonce');

/** Response key and base nonce from the exported secret (§4.4). */
export function responseKeys(
  suite: HpkeSuite,
  secret: Uint8Array,
  enc: Uint8Array,
  responseNonce: Uint8Array,
): { key: Uint8Array; nonce: Uint8Array } {
  const salt = new Uint8Array(enc.length + responseNonce.length);
  salt.set(enc, 0);
  salt.set(responseNonce, enc.length);
  const prk = suite.kdf.extract(salt, secret);
  return {
    key: suite.kdf.expand(prk, KEY_LABEL, suite.aead.Nk),
    nonce: suite.kdf.expand(prk, NONCE_LABEL, suite.aead.Nn),
  };
}

export function responseNonceLength(suite: HpkeSuite): number {
  return Math.max(suite.aead.Nn, suite.aead.Nk);
}

const suites = new Map<string, HpkeSuite>();

/** One suite object per algorithm triple (suites are stateless); a custom rng gets its own. */
export function suiteFor(ids: SuiteIds, rng?: Rng): HpkeSuite | undefined {
  if (!isSupportedSuite(ids)) return undefined;
  if (rng !== undefined) return createSuite(ids, { rng });
  const key = `${ids.kemId}/${ids.kdfId}/${ids.aeadId}`;
  let suite = suites.get(key);
  if (suite === undefined) {
    suite = createSuite(ids);
    suites.set(key, suite);
  }
  return suite;
}
