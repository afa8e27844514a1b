/**
 * "One Privacy Pass token per N requests" at the relay: a token redeemed on a client's
 * connection pays for that request and the next N-1 on the same connection. The credit is
 * the relay's alone (the gateway never sees a token), keyed by the connection object, so it
 * ends with the connection and needs no bound of its own: a client cannot carry it to
 * another connection, and clients sharing an address (a NAT) do not share it.
 *
 * This links the N requests at the relay, which already sees the client's address on all
 * of them; it links nothing at the gateway.
 */
export interface RequestCreditOptions {
  /** Requests one token pays for, at least 1. */
  readonly requestsPerToken: number;
}

export class RequestCredit {
  readonly #perToken: number;
  readonly #left = new WeakMap<object, number>();

  constructor(options: RequestCreditOptions) {
    if (!Number.isInteger(options.requestsPerToken) || options.requestsPerToken < 1)
      throw new RangeError('requestsPerToken must be a positive integer');
    this.#perToken = options.requestsPerToken;
  }

  /** Spends one request of this connection's credit; false when it has none. */
  take(connection: object): boolean {
    const left = this.#left.get(connection) ?? 0;
    if (left === 0) return false;
    this.#left.set(connection, left - 1);
    return true;
  }

  /** A token was just redeemed for a request on this connection: N-1 more are paid for. */
  grant(connection: object): void {
    this.#left.set(connection, this.#perToken - 1);
  }

  /** What this connection may still send without a token (tests, health). */
  remaining(connection: object): number {
    return this.#left.get(connection) ?? 0;
  }
}
