/**
 * A spent-token store in this process's memory, for an ingress without a control plane: one
 * instance is then the whole fleet. Bounded twice: records expire after ttlMs (by then the
 * issuing key has expired too), and at `maxEntries` live records it refuses new claims rather
 * than forget a live record, since forgetting one would let its token be spent again.
 */
import { ExpiringSet } from './expiring-set.ts';
import { SpentStoreUnavailableError, type ClaimResult, type SpentTokenStore } from './store.ts';
import { assertKvSafeKey } from './token-key.ts';

export interface MemorySpentTokenStoreOptions {
  /** How long a spent token is remembered: at least the issuing key's lifetime. */
  readonly ttlMs: number;
  /** Live records at most; a claim beyond them rejects (fail closed). */
  readonly maxEntries: number;
  /** Milliseconds; Date.now by default. */
  readonly now?: () => number;
}

export function createMemorySpentTokenStore(
  options: MemorySpentTokenStoreOptions,
): SpentTokenStore {
  if (!(Number.isFinite(options.ttlMs) && options.ttlMs > 0)) {
    throw new RangeError('ttlMs must be a positive number of milliseconds');
  }
  if (!(Number.isSafeInteger(options.maxEntries) && options.maxEntries > 0)) {
    throw new RangeError('maxEntries must be a positive integer');
  }
  return new MemorySpentTokenStore(options.ttlMs, options.maxEntries, options.now ?? Date.now);
}

class MemorySpentTokenStore implements SpentTokenStore {
  readonly #spent: ExpiringSet;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #healthy = true;
  #closed = false;

  constructor(ttlMs: number, maxEntries: number, now: () => number) {
    this.#spent = new ExpiringSet(ttlMs);
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  claim(key: string): Promise<ClaimResult> {
    try {
      return Promise.resolve(this.#claim(key));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #claim(key: string): ClaimResult {
    assertKvSafeKey(key);
    if (this.#closed) throw new SpentStoreUnavailableError('store closed');
    const now = this.#now();
    this.#spent.sweep(now);
    if (this.#spent.has(key, now)) {
      this.#healthy = true;
      return 'spent';
    }
    if (this.#spent.size >= this.#maxEntries) {
      this.#healthy = false;
      throw new SpentStoreUnavailableError('in-memory store full');
    }
    this.#spent.add(key, now);
    this.#healthy = true;
    return 'fresh';
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
