/**
 * What the ingress codes against: one `claim` per redeemed token, answered 'fresh' exactly once
 * for a key, and an error whenever the answer is not known, so the caller fails closed.
 */
import { RelayError } from '@splitrelay/errors';

export type ClaimResult = 'fresh' | 'spent';

export interface SpentTokenStore {
  /**
   * Atomically records `key` as spent. 'fresh' exactly once fleet-wide, 'spent' for every later
   * claim of the same key (on any instance) until it expires. Rejects with
   * SpentStoreUnavailableError when the store cannot answer within the deadline: callers fail
   * closed. Rejects with a TypeError for a key that is not KV-safe (see `spentTokenKey`).
   */
  claim(key: string): Promise<ClaimResult>;
  /** True while the last operation against the backing store succeeded (for health). */
  readonly healthy: boolean;
  /** Waits for claims in flight (each bounded by its deadline); later claims reject. */
  close(): Promise<void>;
}

/**
 * The store could not say whether a token was spent: a timeout, NATS unreachable, JetStream
 * not answering, a full store, a closed store. The outcome of the claim is unknown (the record
 * may or may not have been written), so the redemption must fail closed.
 *
 * It is a RelayError ('auth-unavailable': 503 with Retry-After), so a caller that lets it
 * through still answers the client correctly. Its message never names the key.
 */
export class SpentStoreUnavailableError extends RelayError {
  constructor(details: string, options?: { cause?: unknown }) {
    super('auth-unavailable', `spent-token store unavailable: ${details}`, options);
  }
}

/**
 * An existing bucket that cannot keep the promise asked of it (records would die before their
 * issuing key does, or could be evicted early): opening it is refused, never worked around.
 */
export class SpentStoreConfigError extends Error {
  override readonly name = 'SpentStoreConfigError';
}
