/**
 * A token bucket per key with a hard memory bound. Sans-I/O: the clock is injected, nothing
 * runs between calls, and a bucket is only refilled when its key is seen again.
 *
 *   tokens(t) = min(burst, tokens(t0) + ratePerSecond × (t − t0) / 1000)
 *
 * Memory is at most `maxKeys` buckets. A Map keeps insertion order, so re-inserting a key on
 * every use keeps the least recently used key first: evicting it is O(1), with no scan.
 */

export interface RateLimitOptions {
  /** Tokens added per second (may be fractional, e.g. 0.2 = one every 5 s). */
  readonly ratePerSecond: number;
  /** Bucket size: what a key may spend at once after a quiet spell. */
  readonly burst: number;
  /** Keys remembered at most; beyond, the least recently used key is forgotten. */
  readonly maxKeys: number;
  /** Milliseconds on a clock that does not go back (performance.now by default). */
  readonly now?: () => number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in `now()` milliseconds. */
  at: number;
}

/**
 * Floating-point slack when comparing tokens: refilling in many small steps may land a hair
 * under a whole token that arithmetic says is there, and the Retry-After we promised must hold.
 */
const EPSILON = 1e-9;

const OK: RateDecision = Object.freeze({ ok: true });

export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    if (!(Number.isFinite(options.ratePerSecond) && options.ratePerSecond > 0))
      throw new RangeError('ratePerSecond must be a positive number');
    if (!(Number.isFinite(options.burst) && options.burst >= 1))
      throw new RangeError('burst must be at least 1');
    if (!(Number.isInteger(options.maxKeys) && options.maxKeys >= 1))
      throw new RangeError('maxKeys must be a positive integer');
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#maxKeys = options.maxKeys;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Keys currently remembered (never more than maxKeys). */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Spends `cost` tokens of `key`'s bucket if it holds them. A refusal says how many whole
   * seconds to wait (at least 1) until the same request would be admitted, provided the key
   * spends nothing meanwhile.
   */
  take(key: string, cost = 1): RateDecision {
    if (!(Number.isFinite(cost) && cost > 0 && cost <= this.#burst))
      throw new RangeError('cost must be positive and at most burst');
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
      bucket = { tokens: this.#burst, at: now };
    } else {
      // Delete and set again: the key moves to the most recently used end of the Map.
      this.#buckets.delete(key);
      // A clock that stepped back refills nothing rather than draining the bucket.
      const elapsedMs = Math.max(0, now - bucket.at);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (elapsedMs / 1000) * this.#rate);
      bucket.at = Math.max(bucket.at, now);
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens + EPSILON >= cost) {
      // May dip a hair below zero (EPSILON): kept, so the slack never adds up across calls.
      bucket.tokens -= cost;
      return OK;
    }
    const waitSeconds = (cost - bucket.tokens) / this.#rate;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitSeconds)) };
  }
}
