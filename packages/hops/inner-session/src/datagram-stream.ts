/**
 * UDP payloads over a CONNECT-UDP stream (RFC 9298 with the Capsule Protocol, RFC 9297):
 * each datagram is a DATAGRAM capsule with context ID 0. Both ends of the inner session use
 * this: the client for its UDP flows, the egress to bridge them to a UDP socket.
 *
 * A malformed capsule stream ends this stream only (RFC 9297 §3.3); unknown capsule types
 * are skipped; datagrams beyond the bounded send queue are dropped and counted, as UDP may.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  CapsuleParser,
  DATAGRAM_CAPSULE_TYPE,
  datagramCapsuleHeader,
  decodeUdpPayload,
  MAX_UDP_PAYLOAD,
} from '@splitrelay/connect-udp';

/** Capsule value limit: one context ID plus the largest UDP payload. */
const MAX_CAPSULE_BYTES = MAX_UDP_PAYLOAD + 8;

export interface DatagramStreamOptions {
  /** Bytes that may wait in the stream's write buffer before datagrams are dropped. */
  readonly maxQueueBytes?: number;
}

export interface DatagramStats {
  sent: number;
  received: number;
  /** Dropped: queue full, unknown context, or too large. */
  dropped: number;
}

export class DatagramStream extends EventEmitter<{
  datagram: [Buffer];
  close: [];
  error: [Error];
}> {
  readonly #stream: Duplex;
  readonly #maxQueueBytes: number;
  readonly stats: DatagramStats = { sent: 0, received: 0, dropped: 0 };
  #closed = false;

  constructor(stream: Duplex, options: DatagramStreamOptions = {}) {
    super();
    this.#stream = stream;
    this.#maxQueueBytes = options.maxQueueBytes ?? 1024 * 1024;
    const parser = new CapsuleParser({
      maxCapsuleBytes: MAX_CAPSULE_BYTES,
      onCapsule: (type, value) => {
        if (type !== DATAGRAM_CAPSULE_TYPE) return;
        const { contextId, payload } = decodeUdpPayload(value);
        if (contextId !== 0) {
          this.stats.dropped++;
          return;
        }
        this.stats.received++;
        this.emit('datagram', Buffer.from(payload));
      },
    });
    stream.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (err) {
        this.#fail(err as Error);
      }
    });
    stream.once('end', () => {
      try {
        parser.end();
        stream.end();
      } catch (err) {
        this.#fail(err as Error);
      }
    });
    stream.on('error', () => {});
    stream.once('close', () => this.#finish());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one UDP payload; drops it (and counts) when closed, too large, or the queue is full. */
  send(payload: Uint8Array): void {
    if (
      this.#closed ||
      payload.length > MAX_UDP_PAYLOAD ||
      this.#stream.writableLength > this.#maxQueueBytes
    ) {
      this.stats.dropped++;
      return;
    }
    this.stats.sent++;
    this.#stream.cork();
    this.#stream.write(datagramCapsuleHeader(payload.length));
    this.#stream.write(payload);
    this.#stream.uncork();
  }

  close(): void {
    if (!this.#closed) this.#stream.end();
  }

  destroy(): void {
    this.#stream.destroy();
  }

  #fail(err: Error): void {
    // 'error' is for those who listen; an unheard one must not throw out of a data handler.
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.#stream.destroy(err);
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close');
  }
}
