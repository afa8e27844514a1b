/**
 * Keys with a common lifetime, in a Map kept in insertion order. With one ttl for all and a
 * clock that does not run backwards, insertion order is expiry order, so expired keys are
 * always at the front and sweeping costs O(expired), not O(size).
 */
export class ExpiringSet {
  readonly #expiries = new Map<string, number>();
  readonly #ttlMs: number;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#expiries.size;
  }

  /** Drops every key whose time is up at `now`. */
  sweep(now: number): void {
    for (const [key, expiresAt] of this.#expiries) {
      // A clock that stepped back can put a later expiry first: stopping there keeps a key
      // too long, never too short.
      if (expiresAt > now) break;
      this.#expiries.delete(key);
    }
  }

  /** True while `key` was added less than ttl ago. */
  has(key: string, now: number): boolean {
    const expiresAt = this.#expiries.get(key);
    return expiresAt !== undefined && expiresAt > now;
  }

  /** Adds (or renews, moving it to the back) `key` for ttl from `now`. */
  add(key: string, now: number): void {
    this.#expiries.delete(key);
    this.#expiries.set(key, now + this.#ttlMs);
  }

  /** Drops the oldest key (for a bounded cache). */
  evictOldest(): void {
    const oldest = this.#expiries.keys().next();
    if (!oldest.done) this.#expiries.delete(oldest.value);
  }

  delete(key: string): void {
    this.#expiries.delete(key);
  }
}
