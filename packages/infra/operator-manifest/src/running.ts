/** What a relay's manifest can read from the relay itself rather than from its config. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allowedFields, type Role } from '@splitrelay/log';
import { buildDigest } from './build-digest.ts';
import type { ManifestClaims } from './claims.ts';

/** Fields every log line has besides the role's own (pino's, as the logger sets them). */
export const LOG_LINE_FIELDS: readonly string[] = Object.freeze(['event', 'level', 'role', 'time']);

/**
 * Every field name a relay of this role can write to its log: the logger's allowlist (it
 * drops anything else at run time) and the fields of every line. Sorted, as the manifest
 * wants it.
 */
export function logFieldsOf(role: Role): string[] {
  return [...new Set([...LOG_LINE_FIELDS, ...Object.keys(allowedFields[role])])].sort();
}

/** The program in `appDir`: its package name and version, and the digest of its build. */
export function runningSoftware(appDir: string): ManifestClaims['software'] {
  const pkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  return { name: pkg.name, version: pkg.version, buildDigest: buildDigest(appDir) };
}
