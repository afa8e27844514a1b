/**
 * The directory as an ingress (or client) holds it from the control plane: verified
 * entries by egress id, each kept as the SignedEntry it arrived as, so `toFile` hands
 * clients exactly what the egress operator signed (never re-signed, never rebuilt).
 */
import { directoryFile, type DirectoryFile } from './directory-file.ts';
import type { Entry } from './entry.ts';
import type { TrustedKeys } from './keys.ts';
import { verifyEntry, type SignedEntry } from './signed-entry.ts';
import { VersionedStore, type ApplyResult } from './versioned-store.ts';

export class DirectoryStore {
  readonly #store = new VersionedStore<Entry>(verifyEntry);

  /**
   * Verifies a signed entry at `nowSeconds` and keeps it when it is the highest version for
   * its egress. `subjectId`, when given, must equal the entry's id (the subject's last token).
   */
  apply(
    signed: unknown,
    trustedKeys: TrustedKeys,
    nowSeconds: number,
    subjectId?: string,
  ): ApplyResult {
    return this.#store.apply(signed, trustedKeys, nowSeconds, subjectId);
  }

  /** Verified entries still valid at `nowSeconds`, by egress id. */
  entries(nowSeconds: number): Map<string, Entry> {
    return new Map(this.#store.current(nowSeconds).map((h) => [h.value.id, h.value]));
  }

  /** The same entries in the signed form they arrived in, sorted by egress id. */
  signedEntries(nowSeconds: number): SignedEntry[] {
    return this.#store.current(nowSeconds).map((h) => h.signed);
  }

  /** A directory file of the signed entries, for clients to verify themselves. */
  toFile(nowSeconds: number): DirectoryFile {
    return directoryFile(this.signedEntries(nowSeconds));
  }

  /** Earliest notAfter (unix seconds) among current entries; undefined when there are none. */
  validUntil(nowSeconds: number): number | undefined {
    return this.#store.validUntil(nowSeconds);
  }

  /** Highest version ever accepted for an egress, even if it has since expired. */
  versionOf(egressId: string): number | undefined {
    return this.#store.versionOf(egressId);
  }
}
