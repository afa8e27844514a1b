export { buildDigest, buildInputs } from './build-digest.ts';
export { issueManifest, manifestDrift, type IssueOptions, type ManifestClaims } from './claims.ts';
export { LOG_LINE_FIELDS, logFieldsOf, runningSoftware } from './running.ts';
export { loadSignedManifest, operatorKid, type LoadedManifest } from './load.ts';
export { fetchManifest, type FetchManifestOptions, type FetchedManifest } from './fetch.ts';
export { receiveManifest, type ReceiveManifestOptions } from './receive.ts';
export { signManifestCommand, type SignManifestSpec } from './sign-command.ts';
