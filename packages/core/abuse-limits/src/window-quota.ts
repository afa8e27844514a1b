/**
 * A quota per key per fixed window (an hour by default), counted in units, not requests: the
 * issuer counts tokens per subscriber, so a batch of 16 costs 16. Windows start at a key's
 * first unit: simple, and the Retry-After a refusal carries is exact. Pure: the caller passes
 * the time (unix ms). A token bucket (RateLimiter) smooths a rate; this caps a total, which
 * is the issuance policy an operator states ("2,000 tokens an hour").
 *
 * It holds one counter per key seen in the last window and nothing else: for the issuer, not
 * which keys, not when each token went out.
 */

export const HOUR_MS = 3_600_000;

export type QuotaTake =
  | { readonly ok: true; readonly remaining: number }
  | {
      readonly ok: false;
      /** Whole seconds until the window ends (Retry-After). */
      readonly retryAfterSeconds: number;
      /** The first refusal in this subscriber's window: worth one log line, not every time. */
      readonly first: boolean;
    };

interface Window {
  start: number;
  used: number;
  refused: boolean;
}

export class WindowQuota {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, Window>();

  constructor(perWindow: number, windowMs = HOUR_MS) {
    if (!Number.isInteger(perWindow) || perWindow < 1)
      throw new TypeError('perWindow must be >= 1');
    this.#perWindow = perWindow;
    this.#windowMs = windowMs;
  }

  /** Subscribers with a live window (for tests and the health endpoint). */
  get size(): number {
    return this.#windows.size;
  }

  #window(subscriber: string, nowMs: number): Window {
    let w = this.#windows.get(subscriber);
    if (w === undefined || nowMs >= w.start + this.#windowMs || nowMs < w.start) {
      w = { start: nowMs, used: 0, refused: false };
      this.#windows.set(subscriber, w);
    }
    return w;
  }

  #refuse(w: Window, nowMs: number): QuotaTake {
    const first = !w.refused;
    w.refused = true;
    const retryAfterSeconds = Math.max(1, Math.ceil((w.start + this.#windowMs - nowMs) / 1000));
    return { ok: false, retryAfterSeconds, first };
  }

  /** Whether `count` more tokens would be allowed now, without taking them. */
  check(subscriber: string, nowMs: number, count = 1): QuotaTake {
    const w = this.#window(subscriber, nowMs);
    if (w.used + count > this.#perWindow) return this.#refuse(w, nowMs);
    return { ok: true, remaining: this.#perWindow - w.used };
  }

  /** Takes `count` tokens, all or none. */
  take(subscriber: string, nowMs: number, count: number): QuotaTake {
    const result = this.check(subscriber, nowMs, count);
    if (!result.ok) return result;
    const w = this.#window(subscriber, nowMs);
    w.used += count;
    return { ok: true, remaining: this.#perWindow - w.used };
  }

  /** Gives back tokens taken for a request that then failed on our side. */
  refund(subscriber: string, count: number): void {
    const w = this.#windows.get(subscriber);
    if (w !== undefined) w.used = Math.max(0, w.used - count);
  }

  /** Forgets windows that have ended. */
  prune(nowMs: number): void {
    for (const [subscriber, w] of this.#windows) {
      if (nowMs >= w.start + this.#windowMs || nowMs < w.start) this.#windows.delete(subscriber);
    }
  }
}
