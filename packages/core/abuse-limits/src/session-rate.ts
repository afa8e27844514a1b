/**
 * New sessions per client address, as an ingress answers them: under the rate, nothing; over
 * it, the refusal to send (429 with Retry-After). Counted in aggregate only, never per client.
 */
import { RelayError } from '@splitrelay/errors';
import { clientAddressKey } from './client-address.ts';
import type { RateLimiter } from './rate-limiter.ts';

export const SESSION_RATE_REFUSAL = 'too many new sessions from this address';

export class SessionRateLimit {
  readonly #rate: RateLimiter;
  #refused = 0;

  constructor(rate: RateLimiter) {
    this.#rate = rate;
  }

  /** Throws the 429 to send when this address opened too many sessions lately. */
  admit(clientAddr: string): void {
    const decision = this.#rate.take(clientAddressKey(clientAddr));
    if (decision.ok) return;
    this.#refused++;
    throw new RelayError('rate-limited', SESSION_RATE_REFUSAL, {
      retryAfterSeconds: decision.retryAfterSeconds,
    });
  }

  /** Sessions refused so far, all addresses together. */
  get refused(): number {
    return this.#refused;
  }
}
