/**
 * An issuer's token keys and their windows. A key issues while now is in
 * [notBefore, notAfter); several overlap during a rotation, and the newest (latest
 * notBefore) comes first, which is the order of preference in the directory (RFC 9578 §4).
 * Pure: every question takes the time (unix seconds).
 */
import { base64url } from './base64url.ts';
import { buildIssuerDirectory, type IssuerDirectory } from './issuer-directory.ts';
import type { IssuerKey } from './issuer.ts';
import type { KeyAnnouncement } from './key-ring.ts';
import { byPreference, isValidAt, windowsOverlap, type KeyWindow } from './key-window.ts';

export interface ScheduledKey extends KeyWindow {
  readonly key: IssuerKey;
}

/** Where token requests go: `issuer-request-uri` in the directory, relative to it. */
export const TOKEN_REQUEST_PATH = '/token-request';
/** Upper bound of the directory's max-age, in seconds (it is also cut at the next key change). */
export const DIRECTORY_MAX_AGE_SECONDS = 3600;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export class IssuerKeySet {
  readonly #keys: readonly ScheduledKey[];

  /**
   * Refuses a key listed twice, and two keys whose windows overlap and whose truncated key
   * ids (one byte, RFC 9578 §6.1) are equal: a request names its key by that byte alone.
   */
  constructor(keys: readonly ScheduledKey[]) {
    for (const [i, a] of keys.entries()) {
      if (!(a.notBefore < a.notAfter))
        throw new Error(`key ${i}: notAfter must be after notBefore`);
      for (const [j, b] of keys.entries()) {
        if (j <= i) continue;
        if (hex(a.key.tokenKey.id) === hex(b.key.tokenKey.id)) {
          throw new Error(`keys ${i} and ${j} are the same key`);
        }
        if (windowsOverlap(a, b) && a.key.tokenKey.truncatedId === b.key.tokenKey.truncatedId) {
          throw new Error(
            `keys ${i} and ${j} overlap and share the truncated key id ${a.key.tokenKey.truncatedId}: generate another key`,
          );
        }
      }
    }
    this.#keys = [...keys].sort(byPreference);
  }

  get size(): number {
    return this.#keys.length;
  }

  /** Keys that issue now, newest first. */
  validAt(nowSeconds: number): ScheduledKey[] {
    return this.#keys.filter((k) => isValidAt(k, nowSeconds));
  }

  /** Keys not yet expired (issuing now or later), newest first: what ingresses are told. */
  unexpiredAt(nowSeconds: number): ScheduledKey[] {
    return this.#keys.filter((k) => nowSeconds < k.notAfter);
  }

  /** The next moment after `nowSeconds` at which the set of valid keys changes. */
  nextChangeAfter(nowSeconds: number): number | undefined {
    let next: number | undefined;
    for (const k of this.#keys) {
      for (const t of [k.notBefore, k.notAfter]) {
        if (t > nowSeconds && (next === undefined || t < next)) next = t;
      }
    }
    return next;
  }

  /** Seconds a directory fetched now may be cached: never past the next key change. */
  directoryMaxAge(nowSeconds: number): number {
    const next = this.nextChangeAfter(nowSeconds);
    const untilChange = next === undefined ? DIRECTORY_MAX_AGE_SECONDS : next - nowSeconds;
    return Math.max(0, Math.min(DIRECTORY_MAX_AGE_SECONDS, untilChange));
  }

  /** The RFC 9578 §4 issuer directory at `nowSeconds` (token-key padded, as the RFC asks). */
  directory(nowSeconds: number): IssuerDirectory {
    return buildIssuerDirectory(
      TOKEN_REQUEST_PATH,
      this.validAt(nowSeconds).map((k) => ({
        tokenKey: k.key.tokenKey.spki,
        notBefore: k.notBefore,
      })),
    );
  }

  /**
   * The keys ingresses are told about (issuing now or later), newest first, in the form an
   * announcement carries them: base64url SPKI and window.
   */
  announced(nowSeconds: number): KeyAnnouncement[] {
    return this.unexpiredAt(nowSeconds).map((k) => ({
      // Canonical unpadded base64url, as the control-plane schema requires.
      tokenKey: base64url(k.key.tokenKey.spki),
      notBefore: k.notBefore,
      notAfter: k.notAfter,
    }));
  }
}
