export { PrivacyPassError, isPrivacyPassError, type PrivacyPassErrorReason } from './errors.ts';
export { base64url, base64urlPadded, fromBase64url } from './base64url.ts';
export {
  encodeChallenge,
  decodeChallenge,
  challengeDigest,
  type TokenChallenge,
} from './challenge.ts';
export {
  TOKEN_TYPE_BLIND_RSA,
  NK,
  TOKEN_LENGTH,
  AUTHENTICATOR_INPUT_LENGTH,
  encodeToken,
  decodeToken,
  authenticatorInput,
  type Token,
} from './token.ts';
export { parseAuthHeader, type AuthChallenge } from './auth-params.ts';
export {
  AUTH_SCHEME,
  MAX_CHALLENGE_HEADER_LENGTH,
  MAX_TOKEN_HEADER_LENGTH,
  formatChallengeHeader,
  parseChallengeHeader,
  formatTokenHeader,
  parseTokenHeader,
  type ChallengeParams,
} from './headers.ts';
export { tokenKeyId, importTokenKey, type TokenKey } from './token-key.ts';
export { verifyToken } from './verify.ts';
export {
  TOKEN_REQUEST_LENGTH,
  generateIssuerKeyPem,
  loadIssuerKey,
  decodeTokenRequest,
  issueTokenResponse,
  type IssuerKey,
  type TokenRequest,
} from './issuer.ts';
export { beginTokenRequest, type PendingToken } from './client.ts';
export { BATCH_MEDIA_TYPES, encodeTokenBatch, decodeTokenBatch } from './batch.ts';
export {
  ISSUER_DIRECTORY_PATH,
  MAX_TOKEN_KEY_CHARS,
  MEDIA_TYPES,
  issuerDirectorySchema,
  tokenKeyEntrySchema,
  buildIssuerDirectory,
  selectTokenKey,
  type IssuerDirectory,
} from './issuer-directory.ts';
export {
  isValidAt,
  windowsOverlap,
  byPreference,
  preferredAt,
  type KeyWindow,
} from './key-window.ts';
export { TokenKeyRing, type KeyAnnouncement, type KeyLookup, type RingKey } from './key-ring.ts';
export {
  TokenRedeemer,
  type RedemptionCounters,
  type SpentTokenLedger,
  type TokenRedeemerOptions,
} from './redemption.ts';
export {
  IssuerKeySet,
  DIRECTORY_MAX_AGE_SECONDS,
  TOKEN_REQUEST_PATH,
  type ScheduledKey,
} from './issuer-key-set.ts';
