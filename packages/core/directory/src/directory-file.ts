/**
 * A directory is a list of signed entries: `{ v: 1, entries: SignedEntry[] }`. Each entry
 * stands or falls alone, so one bad or stale entry never hides the good ones.
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { describeIssues, type Entry } from './entry.ts';
import { DirectoryError, isDirectoryError, type DirectoryErrorCode } from './errors.ts';
import { trustedKeyMap, type TrustedKeys } from './keys.ts';
import { verifyWithKeys, type SignedEntry } from './signed-entry.ts';

export const MAX_DIRECTORY_ENTRIES = 10_000;

const directoryFileSchema = z.strictObject({
  v: z.literal(1),
  // Entries are checked one by one below, so a bad one is a rejection, not a failed file.
  entries: z.array(z.unknown()).max(MAX_DIRECTORY_ENTRIES),
});

export interface DirectoryFile {
  readonly v: 1;
  readonly entries: readonly SignedEntry[];
}

export interface Rejection {
  /** Position in the file's `entries`. */
  readonly index: number;
  readonly code: DirectoryErrorCode;
  readonly reason: string;
}

export interface VerifiedDirectory {
  /** By egress id, the highest version that verified. */
  readonly entries: Map<string, Entry>;
  readonly rejected: Rejection[];
}

export function directoryFile(entries: readonly SignedEntry[]): DirectoryFile {
  return { v: 1, entries: [...entries] };
}

/**
 * Verifies every entry of a parsed directory file at `now` (unix seconds). Throws a
 * DirectoryError ('malformed') only when the file itself is not a directory.
 */
export function verifyDirectory(
  file: unknown,
  trustedKeys: TrustedKeys,
  now: number,
): VerifiedDirectory {
  const keys: ReadonlyMap<string, KeyObject> = trustedKeyMap(trustedKeys);
  const parsed = directoryFileSchema.safeParse(file);
  if (!parsed.success) {
    throw new DirectoryError(
      'malformed',
      `directory is malformed: ${describeIssues(parsed.error)}`,
    );
  }
  const kept = new Map<string, { entry: Entry; payload: string }>();
  const rejected: Rejection[] = [];
  parsed.data.entries.forEach((signed, index) => {
    let entry: Entry;
    try {
      entry = verifyWithKeys(signed, keys, now);
    } catch (err) {
      if (!isDirectoryError(err)) throw err;
      rejected.push({ index, code: err.code, reason: err.message });
      return;
    }
    const payload = (signed as SignedEntry).payload;
    const prior = kept.get(entry.id);
    // Two different entries with one version mean the operator signed both; the smaller
    // payload wins so that every verifier picks the same one whatever the order.
    if (
      prior === undefined ||
      entry.version > prior.entry.version ||
      (entry.version === prior.entry.version && payload < prior.payload)
    ) {
      kept.set(entry.id, { entry, payload });
    }
  });
  const entries = new Map<string, Entry>();
  for (const [id, { entry }] of kept) entries.set(id, entry);
  return { entries, rejected };
}
