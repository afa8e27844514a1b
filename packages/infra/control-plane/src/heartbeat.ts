/**
 * Periodic publishers, the shells' half of "heartbeats every N, ttl 3N" and of catching up:
 * core NATS keeps no messages, so a peer that (re)connects learns the state from the next
 * announcement. Both skip ticks while disconnected (a buffered backlog of old heartbeats is
 * noise) and speak at once when the connection comes back.
 */
import { setInterval, clearInterval } from 'node:timers';
import { quantizeLoad, type Health, type HealthStatusField, type MessageOf } from './schemas.ts';
import type { AnyFamily, Family } from './subjects.ts';

/**
 * What these need from a ControlPlaneClient (an interface, so tests can pass a fake), for the
 * families `K` it is asked to publish (the four crossing families by default).
 */
export interface ControlPlanePublisher<K extends AnyFamily = Family> {
  readonly status: 'connected' | 'disconnected';
  publish<F extends K>(family: F, id: string, message: MessageOf<F>): void;
  onStatusChange(listener: (state: 'connected' | 'disconnected') => void): () => void;
}

export interface AnnouncerOptions<F extends AnyFamily> {
  readonly family: F;
  readonly id: string;
  readonly intervalMs: number;
  /** Called at every tick for the message to publish (a signed entry may be rotated). */
  readonly message: () => MessageOf<F>;
  /** A failed publish; without it the error is thrown from the timer. */
  readonly onError?: (err: unknown) => void;
}

export class Announcer<F extends AnyFamily> {
  readonly #client: ControlPlanePublisher<F>;
  readonly #options: AnnouncerOptions<F>;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopWatching: (() => void) | undefined;
  published = 0;

  // F comes from options.family: a client that publishes more families still fits.
  constructor(client: ControlPlanePublisher<NoInfer<F>>, options: AnnouncerOptions<F>) {
    if (!(Number.isInteger(options.intervalMs) && options.intervalMs > 0)) {
      throw new TypeError('intervalMs must be a positive integer');
    }
    this.#client = client;
    this.#options = options;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Publishes now, then every intervalMs and on every reconnect, until stop(). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.announce(), this.#options.intervalMs);
    this.#timer.unref();
    this.#stopWatching = this.#client.onStatusChange((state) => {
      if (state === 'connected') this.announce();
    });
    this.announce();
  }

  /** One announcement now, unless disconnected. */
  announce(): void {
    if (this.#client.status !== 'connected') return;
    try {
      this.#client.publish(this.#options.family, this.#options.id, this.#options.message());
      this.published += 1;
    } catch (err) {
      if (this.#options.onError === undefined) throw err;
      this.#options.onError(err);
    }
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopWatching?.();
    this.#stopWatching = undefined;
  }
}

export interface HealthSample {
  readonly status: HealthStatusField;
  /** 0..1; rounded to the schema's 1/1000 steps. */
  readonly load: number;
  readonly sessions: number;
  readonly capacity: number;
}

export interface HeartbeatOptions {
  readonly family: 'egress-health' | 'ingress-health';
  readonly id: string;
  readonly intervalMs: number;
  readonly sample: () => HealthSample;
  /** Unix milliseconds; default Date.now. */
  readonly now?: () => number;
  readonly onError?: (err: unknown) => void;
}

/** TTL = 3 intervals: a peer is 'down' only after three heartbeats in a row went missing. */
export const TTL_INTERVALS = 3;

export class Heartbeat {
  readonly ttlMs: number;
  readonly #announcer: Announcer<'egress-health' | 'ingress-health'>;

  constructor(client: ControlPlanePublisher, options: HeartbeatOptions) {
    const now = options.now ?? Date.now;
    this.ttlMs = TTL_INTERVALS * options.intervalMs;
    this.#announcer = new Announcer(client, {
      family: options.family,
      id: options.id,
      intervalMs: options.intervalMs,
      ...(options.onError === undefined ? {} : { onError: options.onError }),
      message: (): Health => {
        const s = options.sample();
        return {
          v: 1,
          id: options.id,
          status: s.status,
          load: quantizeLoad(s.load),
          sessions: s.sessions,
          capacity: s.capacity,
          sentAt: Math.floor(now()),
          ttlMs: this.ttlMs,
        };
      },
    });
  }

  get running(): boolean {
    return this.#announcer.running;
  }

  get published(): number {
    return this.#announcer.published;
  }

  start(): void {
    this.#announcer.start();
  }

  beat(): void {
    this.#announcer.announce();
  }

  stop(): void {
    this.#announcer.stop();
  }
}
