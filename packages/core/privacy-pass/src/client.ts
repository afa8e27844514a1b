/**
 * Client side of RFC 9578 §6.1 and §6.3: blind the token input for the issuer, then turn
 * the issuer's blind signature into a Token.
 *
 *   nonce       = random(32)
 *   token_input = 0x0002 | nonce | SHA-256(challenge) | token_key_id
 *   blinded_msg, inv = rsabssa_blind(pkI, token_input)          (RFC 9474 §4.2)
 *
 *   struct {
 *       uint16_t token_type = 0x0002;
 *       uint8_t  truncated_token_key_id;    // last byte of token_key_id
 *       uint8_t  blinded_msg[Nk];
 *   } TokenRequest;
 *
 * Blinding and finalization are RSABSSA-SHA384-PSS-Deterministic (blind-rsa.ts); randomness
 * comes from crypto.getRandomValues in the order nonce, salt, blind (the RFC 9578 vectors
 * depend on that order).
 */
import { blind, finalize, modulusOf } from './blind-rsa.ts';
import { challengeDigest, decodeChallenge } from './challenge.ts';
import { PrivacyPassError } from './errors.ts';
import { concatBytes, u16 } from './bytes.ts';
import { importTokenKey } from './token-key.ts';
import {
  authenticatorInput,
  encodeToken,
  NK,
  NONCE_LENGTH,
  TOKEN_TYPE_BLIND_RSA,
} from './token.ts';

export interface PendingToken {
  /** The encoded TokenRequest to POST to the issuer. */
  readonly request: Uint8Array;
  /** The encoded Token from the issuer's TokenResponse; 'malformed' if it does not verify. */
  finalize(response: Uint8Array): Promise<Uint8Array>;
}

export async function beginTokenRequest(
  encodedChallenge: Uint8Array,
  tokenKey: Uint8Array,
): Promise<PendingToken> {
  const challenge = decodeChallenge(encodedChallenge);
  if (challenge.tokenType !== TOKEN_TYPE_BLIND_RSA) throw new PrivacyPassError('unsupported-type');
  const key = importTokenKey(tokenKey);
  const n = modulusOf(key.publicKey);
  const fields = {
    tokenType: TOKEN_TYPE_BLIND_RSA,
    nonce: globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LENGTH)),
    challengeDigest: challengeDigest(encodedChallenge),
    tokenKeyId: key.id,
  };
  const tokenInput = authenticatorInput(fields);
  const { blindedMsg, inv } = blind(key.publicKey, n, tokenInput);
  if (blindedMsg.length !== NK) throw new PrivacyPassError('bad-key');
  const request = concatBytes([
    u16(TOKEN_TYPE_BLIND_RSA),
    new Uint8Array([key.truncatedId]),
    blindedMsg,
  ]);
  return Object.freeze({
    request,
    async finalize(response: Uint8Array): Promise<Uint8Array> {
      if (!(response instanceof Uint8Array) || response.length !== NK) {
        throw new PrivacyPassError('malformed');
      }
      let authenticator: Uint8Array;
      try {
        authenticator = finalize(key.publicKey, n, tokenInput, response, inv);
      } catch (cause) {
        throw new PrivacyPassError('malformed', { cause });
      }
      return encodeToken({ ...fields, authenticator });
    },
  });
}
