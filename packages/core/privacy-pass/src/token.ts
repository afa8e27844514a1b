/**
 * RFC 9577 §2.2 Token, for token type 0x0002 (RFC 9578 §6, Blind RSA 2048, Nk = 256):
 *
 *   struct {
 *       uint16_t token_type = 0x0002;
 *       uint8_t  nonce[32];
 *       uint8_t  challenge_digest[32];
 *       uint8_t  token_key_id[32];
 *       uint8_t  authenticator[Nk];
 *   } Token;
 *
 * The authenticator signs everything before it (the AuthenticatorInput, 98 bytes) with
 * RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48.
 */
import { PrivacyPassError } from './errors.ts';
import { copyBytes, readU16, u16 } from './bytes.ts';

export const TOKEN_TYPE_BLIND_RSA = 0x0002;
/** Authenticator length for type 2: the RSA modulus length in bytes. */
export const NK = 256;
export const NONCE_LENGTH = 32;
const DIGEST_LENGTH = 32;
const TOKEN_KEY_ID_LENGTH = 32;
export const AUTHENTICATOR_INPUT_LENGTH = 2 + NONCE_LENGTH + DIGEST_LENGTH + TOKEN_KEY_ID_LENGTH; // 98
export const TOKEN_LENGTH = 2 + 32 + 32 + 32 + 256; // 354

export interface Token {
  tokenType: number;
  nonce: Uint8Array;
  challengeDigest: Uint8Array;
  tokenKeyId: Uint8Array;
  authenticator: Uint8Array;
}

export function encodeToken(t: Token): Uint8Array {
  const out = new Uint8Array(TOKEN_LENGTH);
  out.set(authenticatorInput(t), 0);
  if (t.authenticator.length !== NK) throw new PrivacyPassError('malformed');
  out.set(t.authenticator, AUTHENTICATOR_INPUT_LENGTH);
  return out;
}

export function decodeToken(bytes: Uint8Array): Token {
  if (bytes.length < 2) throw new PrivacyPassError('malformed');
  const tokenType = readU16(bytes, 0);
  if (tokenType !== TOKEN_TYPE_BLIND_RSA) throw new PrivacyPassError('unsupported-type');
  if (bytes.length !== TOKEN_LENGTH) throw new PrivacyPassError('malformed');
  return {
    tokenType,
    nonce: copyBytes(bytes, 2, 34),
    challengeDigest: copyBytes(bytes, 34, 66),
    tokenKeyId: copyBytes(bytes, 66, 98),
    authenticator: copyBytes(bytes, 98, TOKEN_LENGTH),
  };
}

/** token_type | nonce | challenge_digest | token_key_id: the 98 bytes the issuer signs. */
export function authenticatorInput(
  t: Pick<Token, 'tokenType' | 'nonce' | 'challengeDigest' | 'tokenKeyId'>,
): Uint8Array {
  if (t.tokenType !== TOKEN_TYPE_BLIND_RSA) throw new PrivacyPassError('unsupported-type');
  if (
    t.nonce.length !== NONCE_LENGTH ||
    t.challengeDigest.length !== DIGEST_LENGTH ||
    t.tokenKeyId.length !== TOKEN_KEY_ID_LENGTH
  ) {
    throw new PrivacyPassError('malformed');
  }
  const out = new Uint8Array(AUTHENTICATOR_INPUT_LENGTH);
  out.set(u16(t.tokenType), 0);
  out.set(t.nonce, 2);
  out.set(t.challengeDigest, 34);
  out.set(t.tokenKeyId, 66);
  return out;
}
