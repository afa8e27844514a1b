/**
 * Directory files and the operator keys they are verified against, as an operator's tools
 * and the apps read and write them. The static file is one source of signed entries; the
 * control plane is the other, with the same verification.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { verifyDirectory, type DirectoryFile, type VerifiedDirectory } from './directory-file.ts';
import { DirectoryError } from './errors.ts';
import { keyIdOf } from './keys.ts';

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

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DirectoryError('malformed', `cannot read directory file ${path}`, { cause: err });
  }
}

/** The signed entries of a directory file as written, unverified: callers verify each. */
export function readSignedEntries(path: string): unknown[] {
  const entries = (readJson(path) as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries))
    throw new DirectoryError('malformed', `${path} is not a directory file`);
  return entries;
}

export function loadDirectoryFile(
  path: string,
  trustedKeys: Readonly<Record<string, string>>,
  nowSeconds: number,
): VerifiedDirectory {
  return verifyDirectory(readJson(path), trustedKeys, nowSeconds);
}

/**
 * Writes a directory file through a temporary file and a rename: the ingress, the client and
 * the egress re-read these files while an operator signs, and must never read half of one.
 */
export function writeDirectoryFile(path: string, file: DirectoryFile): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
