/**
 * RFC 9577 §2.1.1 TokenChallenge:
 *
 *   struct {
 *       uint16_t token_type;
 *       opaque issuer_name<1..2^16-1>;
 *       opaque redemption_context<0..32>;   // 0 or 32 bytes
 *       opaque origin_info<0..2^16-1>;      // origin names joined with ','
 *   } TokenChallenge;
 *
 * issuer_name and origin_info are ASCII host names (the RFC's "server name" form); this codec
 * admits visible ASCII without ',' in each name, which keeps the split on ',' lossless.
 * The challenge digest (§2.2) is SHA-256 over the bytes as received, never a re-encoding.
 */
import { createHash } from 'node:crypto';
import { PrivacyPassError } from './errors.ts';
import { concatBytes, copyBytes, readU16, u16 } from './bytes.ts';

export interface TokenChallenge {
  tokenType: number;
  issuerName: string;
  /** 0 or 32 bytes. */
  redemptionContext: Uint8Array;
  /** Joined with ',' on the wire; empty means none. */
  originInfo: readonly string[];
}

const MAX_U16 = 0xffff;

export function encodeChallenge(c: TokenChallenge): Uint8Array {
  if (!Number.isInteger(c.tokenType) || c.tokenType < 0 || c.tokenType > MAX_U16) {
    throw new PrivacyPassError('malformed');
  }
  const issuer = asciiName(c.issuerName);
  if (issuer.length === 0 || issuer.length > MAX_U16) throw new PrivacyPassError('malformed');
  const ctx = c.redemptionContext;
  if (ctx.length !== 0 && ctx.length !== 32) throw new PrivacyPassError('malformed');
  for (const name of c.originInfo) {
    // A ',' inside a name would split it in two on the way back.
    if (name.length === 0) throw new PrivacyPassError('malformed');
    asciiName(name);
  }
  const origins = asciiName(c.originInfo.join(','), true);
  if (origins.length > MAX_U16) throw new PrivacyPassError('malformed');
  return concatBytes([
    u16(c.tokenType),
    u16(issuer.length),
    issuer,
    new Uint8Array([ctx.length]),
    ctx,
    u16(origins.length),
    origins,
  ]);
}

export function decodeChallenge(bytes: Uint8Array): TokenChallenge {
  let at = 0;
  const need = (n: number): void => {
    if (at + n > bytes.length) throw new PrivacyPassError('malformed');
  };
  need(4);
  const tokenType = readU16(bytes, 0);
  const issuerLength = readU16(bytes, 2);
  at = 4;
  if (issuerLength === 0) throw new PrivacyPassError('malformed');
  need(issuerLength);
  const issuerName = asciiString(bytes, at, at + issuerLength, false);
  at += issuerLength;
  need(1);
  const ctxLength = bytes[at] ?? 0;
  at += 1;
  if (ctxLength !== 0 && ctxLength !== 32) throw new PrivacyPassError('malformed');
  need(ctxLength);
  const redemptionContext = copyBytes(bytes, at, at + ctxLength);
  at += ctxLength;
  need(2);
  const originLength = readU16(bytes, at);
  at += 2;
  need(originLength);
  const joined = asciiString(bytes, at, at + originLength, true);
  at += originLength;
  if (at !== bytes.length) throw new PrivacyPassError('malformed');
  const originInfo = joined.length === 0 ? [] : joined.split(',');
  if (originInfo.some((name) => name.length === 0)) throw new PrivacyPassError('malformed');
  return { tokenType, issuerName, redemptionContext, originInfo };
}

/** SHA-256 of the encoded challenge: the `challenge_digest` a token carries. */
export function challengeDigest(encodedChallenge: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(encodedChallenge).digest());
}

function isNameByte(c: number, commaAllowed: boolean): boolean {
  return c >= 0x21 && c <= 0x7e && (commaAllowed || c !== 0x2c);
}

function asciiName(s: string, commaAllowed = false): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isNameByte(c, commaAllowed)) throw new PrivacyPassError('malformed');
    out[i] = c;
  }
  return out;
}

function asciiString(bytes: Uint8Array, start: number, end: number, commaAllowed: boolean): string {
  for (let i = start; i < end; i++) {
    if (!isNameByte(bytes[i] ?? 0, commaAllowed)) throw new PrivacyPassError('malformed');
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}
