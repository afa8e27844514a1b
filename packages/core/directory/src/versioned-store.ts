/**
 * The state both signed kinds share: per relay id, the highest version that verified,
 * kept in its original signed form so it can be passed on unmodified. Pure: the caller
 * passes the trusted keys and the time (unix seconds).
 *
 * An entry that has expired is hidden from reads but still remembered, so its version stays
 * the floor: replaying an older, still-valid signed version can never roll a relay back.
 */
import { isDirectoryError, type DirectoryErrorCode } from './errors.ts';
import type { TrustedKeys } from './keys.ts';

export type RejectReason = DirectoryErrorCode | 'stale-version' | 'id-mismatch';

export type ApplyResult =
  | { readonly accepted: true; readonly changed: boolean }
  | { readonly accepted: false; readonly reason: RejectReason; readonly detail: string };

export interface Versioned {
  readonly id: string;
  readonly version: number;
  readonly notAfter: number;
}

interface Signed {
  readonly payload: string;
  readonly sig: string;
  readonly kid: string;
}

export interface Held<T> {
  readonly value: T;
  readonly signed: Signed;
}

export type Verifier<T> = (signed: unknown, trustedKeys: TrustedKeys, nowSeconds: number) => T;

export class VersionedStore<T extends Versioned> {
  readonly #verify: Verifier<T>;
  readonly #held = new Map<string, Held<T>>();

  constructor(verify: Verifier<T>) {
    this.#verify = verify;
  }

  apply(
    signed: unknown,
    trustedKeys: TrustedKeys,
    nowSeconds: number,
    subjectId?: string,
  ): ApplyResult {
    let value: T;
    try {
      value = this.#verify(signed, trustedKeys, nowSeconds);
    } catch (err) {
      // Anything else (a TypeError) is a bad configuration or clock, not a bad message.
      if (!isDirectoryError(err)) throw err;
      return { accepted: false, reason: err.code, detail: err.message };
    }
    if (subjectId !== undefined && value.id !== subjectId) {
      return { accepted: false, reason: 'id-mismatch', detail: 'id differs from the subject' };
    }
    const { payload, sig, kid } = signed as Signed;
    const prior = this.#held.get(value.id);
    if (prior !== undefined) {
      if (value.version < prior.value.version) {
        return { accepted: false, reason: 'stale-version', detail: 'older than the version held' };
      }
      if (value.version === prior.value.version) {
        if (payload === prior.signed.payload) return { accepted: true, changed: false };
        // Two payloads with one version: the operator signed both. The smaller wins, as in
        // verifyDirectory, so every verifier settles on the same one whatever the order.
        if (payload > prior.signed.payload) {
          return {
            accepted: false,
            reason: 'stale-version',
            detail: 'same version, other payload kept',
          };
        }
      }
    }
    this.#held.set(value.id, { value, signed: Object.freeze({ payload, sig, kid }) });
    return { accepted: true, changed: true };
  }

  /** The held entries still valid at `nowSeconds`, sorted by id. */
  current(nowSeconds: number): Held<T>[] {
    if (!Number.isFinite(nowSeconds)) throw new TypeError('nowSeconds must be finite');
    return [...this.#held.keys()]
      .sort()
      .map((id) => this.#held.get(id) as Held<T>)
      .filter((h) => nowSeconds < h.value.notAfter);
  }

  /** The earliest notAfter among current entries: when the state stops being valid. */
  validUntil(nowSeconds: number): number | undefined {
    let earliest: number | undefined;
    for (const { value } of this.current(nowSeconds)) {
      if (earliest === undefined || value.notAfter < earliest) earliest = value.notAfter;
    }
    return earliest;
  }

  /** Highest version ever accepted for an id, expired or not. */
  versionOf(id: string): number | undefined {
    return this.#held.get(id)?.value.version;
  }
}
