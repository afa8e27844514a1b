/**
 * Redemption-side check of a type 0x0002 token (RFC 9578 §6.4): the authenticator is an
 * RSASSA-PSS (SHA-384, MGF1-SHA-384, salt 48) signature over the AuthenticatorInput under
 * the key the token names. Synchronous and cheap (tens of µs), so the ingress can call it
 * inline under load; it never throws, whatever the token holds.
 */
import { constants, verify } from 'node:crypto';
import { equalBytes } from './bytes.ts';
import type { TokenKey } from './token-key.ts';
import { authenticatorInput, NK, TOKEN_TYPE_BLIND_RSA, type Token } from './token.ts';

const SALT_LENGTH = 48;

export function verifyToken(token: Token, key: TokenKey): boolean {
  try {
    if (token.tokenType !== TOKEN_TYPE_BLIND_RSA) return false;
    if (!equalBytes(token.tokenKeyId, key.id)) return false;
    if (token.authenticator.length !== NK) return false;
    return verify(
      'sha384',
      authenticatorInput(token),
      { key: key.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: SALT_LENGTH },
      token.authenticator,
    );
  } catch {
    return false;
  }
}
