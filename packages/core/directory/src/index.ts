export { DirectoryError, isDirectoryError, type DirectoryErrorCode } from './errors.ts';
export { entrySchema, entryFields, EGRESS_ID, MAX_TLS_PINS, type Entry } from './entry.ts';
export { parseEndpoint, type Endpoint } from './endpoint.ts';
export { spkiPin, isSpkiPin } from './pin.ts';
export {
  generateOperatorKey,
  keyIdOf,
  trustedKeyMap,
  type OperatorKey,
  type TrustedKeys,
} from './keys.ts';
export {
  signEntry,
  claimedEntryId,
  verifyEntry,
  signedEntrySchema,
  SIGNATURE_CONTEXT,
  MAX_PAYLOAD_BYTES,
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
