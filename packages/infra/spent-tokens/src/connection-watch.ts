/**
 * Whether the NATS connection is up, from its status events. A claim made while it is down
 * would sit in the client's reconnect buffer, time out, and might still reach the server after
 * the reconnect, spending the token of a client that was told to retry. Refusing at once
 * avoids both the wait and most of those late writes.
 */
import type { NatsConnection, Status } from '@nats-io/transport-node';

export class ConnectionWatch {
  #up: boolean;
  readonly #stop: () => void;

  constructor(nc: NatsConnection) {
    this.#up = !nc.isClosed();
    const statuses = nc.status();
    this.#stop = () => {
      // The client's status iterator has stop(); the AsyncIterable type does not say so.
      if ('stop' in statuses && typeof statuses.stop === 'function') statuses.stop();
    };
    void this.#follow(statuses, nc);
  }

  get up(): boolean {
    return this.#up;
  }

  stop(): void {
    this.#stop();
  }

  async #follow(statuses: AsyncIterable<Status>, nc: NatsConnection): Promise<void> {
    try {
      for await (const s of statuses) {
        if (s.type === 'disconnect' || s.type === 'close') this.#up = false;
        else if (s.type === 'reconnect') this.#up = true;
      }
    } catch {
      // The iterator ends with an error when the connection closes with one.
    }
    if (nc.isClosed()) this.#up = false;
  }
}
