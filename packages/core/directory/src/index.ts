export { DirectoryError, isDirectoryError, type DirectoryErrorCode } from './errors.ts';
export {
  entrySchema,
  entryFields,
  keyIdSchema,
  MAX_TLS_PINS,
  LOCATION_CODE,
  MAX_SERVED_LOCATIONS,
  isPublicationUrl,
  describeIssues,
  type Entry,
} from './entry.ts';
export { parseEndpoint, type Endpoint } from './endpoint.ts';
export {
  MAX_OHTTP_KEYS_BYTES,
  ohttpKeysProblem,
  ohttpKeysBytes,
  ohttpKeyIds,
} from './ohttp-keys.ts';
export { spkiPin, isSpkiPin } from './pin.ts';
export {
  generateOperatorKey,
  keyIdOf,
  trustedKeyMap,
  type OperatorKey,
  type TrustedKeys,
} from './keys.ts';
export {
  signedEnvelopeSchema,
  envelopeSchema,
  signatureContext,
  signDocument,
  openDocument,
  checkWindow,
  unverifiedPayload,
  decodeBase64url,
  decodeJson,
  MAX_PAYLOAD_BYTES,
  type SignedEnvelope,
} from './envelope.ts';
export {
  signEntry,
  claimedEntryId,
  verifyEntry,
  signedEntrySchema,
  SIGNATURE_CONTEXT,
  type SignedEntry,
} from './signed-entry.ts';
export {
  verifyDirectory,
  directoryFile,
  MAX_DIRECTORY_ENTRIES,
  type DirectoryFile,
  type Rejection,
  type VerifiedDirectory,
} from './directory-file.ts';
export {
  VersionedStore,
  type ApplyResult,
  type RejectReason,
  type Held,
  type Versioned,
  type Verifier,
} from './versioned-store.ts';
export { DirectoryStore } from './directory-store.ts';
export {
  loadDirectoryFile,
  readSignedEntries,
  readTrustedKeys,
  writeDirectoryFile,
  type OperatorKeyFile,
} from './files.ts';
export {
  DIRECTORY_PATH,
  EGRESS_HEALTH_PATH,
  MANIFEST_PATH,
  OHTTP_RELAY_PREFIX,
  OHTTP_KEYS_PREFIX,
} from './well-known.ts';
