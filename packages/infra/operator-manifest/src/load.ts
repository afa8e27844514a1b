/**
 * A relay's start-up check of its manifest: the signed file its operator made must verify
 * with the operator's key, be valid now, and claim exactly what the relay runs with.
 * Anything else stops the start, with every problem listed, like a bad config.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '@splitrelay/config';
import { keyIdOf, type SignedEnvelope } from '@splitrelay/directory';
import { verifyManifest, type Manifest } from '@splitrelay/egress-addresses';
import { manifestDrift, type ManifestClaims } from './claims.ts';

export interface LoadedManifest {
  /** As signed: what the relay serves and publishes, byte for byte. */
  readonly signed: SignedEnvelope;
  readonly manifest: Manifest;
}

/** The operator key id of a PEM public key file: what the claims name as `operator`. */
export function operatorKid(publicKeyFile: string): string {
  return keyIdOf(readFileSync(publicKeyFile, 'utf8'));
}

/**
 * Reads `file`, verifies it against the operator public key (PEM file) at `now` (unix
 * seconds), and compares it with `claims`. Throws a ConfigError naming the file and listing
 * every problem, with the command that fixes them.
 */
export function loadSignedManifest(
  file: string,
  publicKeyFile: string,
  claims: ManifestClaims,
  now: number,
  signCommand: string,
): LoadedManifest {
  const fix = `sign it again for this config: ${signCommand}`;
  let signed: unknown;
  try {
    signed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, [
      `cannot read the signed manifest: ${(err as Error).message}`,
      fix,
    ]);
  }
  const pem = readFileSync(publicKeyFile, 'utf8');
  let manifest: Manifest;
  try {
    manifest = verifyManifest(signed, { [keyIdOf(pem)]: pem }, now);
  } catch (err) {
    throw new ConfigError(file, [`the manifest does not verify: ${(err as Error).message}`, fix]);
  }
  const drift = manifestDrift(claims, manifest);
  if (drift.length > 0) throw new ConfigError(file, [...drift, fix]);
  return { signed: signed as SignedEnvelope, manifest };
}
