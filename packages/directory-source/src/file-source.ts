/**
 * The shell around the directory core: reads a directory file and the operator keys it is
 * verified against. The static file is one source of signed entries; the control plane will
 * be another, with the same verification.
 */
import { readFileSync } from 'node:fs';
import {
  DirectoryError,
  keyIdOf,
  verifyDirectory,
  type VerifiedDirectory,
} from '@splitrelay/directory';

export interface OperatorKeyFile {
  /** Key id; derived from the key when absent. */
  readonly kid?: string | undefined;
  /** Path of the operator's Ed25519 public key (PEM). */
  readonly publicKey: string;
}

export function readTrustedKeys(keys: readonly OperatorKeyFile[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const pem = readFileSync(key.publicKey, 'utf8');
    out[key.kid ?? keyIdOf(pem)] = pem;
  }
  return out;
}

export function loadDirectoryFile(
  path: string,
  trustedKeys: Readonly<Record<string, string>>,
  nowSeconds: number,
): VerifiedDirectory {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DirectoryError('malformed', `cannot read directory file ${path}`, { cause: err });
  }
  return verifyDirectory(json, trustedKeys, nowSeconds);
}
