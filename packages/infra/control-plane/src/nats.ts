/**
 * The shell that puts the control plane on NATS, and the only file that imports the NATS
 * client. Every message is checked against its schema on the way out (a bad one throws and
 * is never sent) and on the way in (a bad one is dropped and counted, never handed on).
 */
import { Buffer } from 'node:buffer';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { RelayError } from '@splitrelay/errors';
import type { z } from 'zod';
import { decodeJson } from '@splitrelay/directory';
import { messageId, schemaFor, type MessageOf } from './schemas.ts';
import { familyWildcard, parseSubject, subjectFor, type AnyFamily } from './subjects.ts';

export type ConnectionState = 'connected' | 'disconnected';
export type DropReason = 'oversize' | 'not-json' | 'bad-subject' | 'schema' | 'id-mismatch';
export const DROP_REASONS: readonly DropReason[] = Object.freeze([
  'oversize',
  'not-json',
  'bad-subject',
  'schema',
  'id-mismatch',
]);

/** Far above any valid message (a signed entry is at most ~22 KB), far below NATS's 1 MB. */
export const MAX_MESSAGE_BYTES = 32 * 1024;

export interface Delivery<F extends AnyFamily> {
  readonly family: F;
  /** The relay id from the subject, equal to the id inside the message. */
  readonly id: string;
  readonly message: MessageOf<F>;
}

export interface SubscribeOptions {
  /** Only this relay's messages; default every relay of the family. */
  readonly id?: string;
  /** Told why a message was dropped (never its content, which may be what must not leak). */
  readonly onDrop?: (reason: DropReason, subject: string) => void;
  /** A throwing handler; without it the error is rethrown outside the NATS callback. */
  readonly onError?: (err: unknown) => void;
}

export interface ControlPlaneStats {
  readonly published: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly droppedByReason: Readonly<Record<DropReason, number>>;
}

function describe(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

function rethrowLater(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

export class ControlSubscription {
  readonly subject: string;
  readonly #unsubscribe: () => void;
  delivered = 0;
  dropped = 0;

  constructor(subject: string, unsubscribe: () => void) {
    this.subject = subject;
    this.#unsubscribe = unsubscribe;
  }

  unsubscribe(): void {
    this.#unsubscribe();
  }
}

export class ControlPlaneClient {
  readonly #nc: NatsConnection;
  #state: ConnectionState;
  readonly #listeners = new Set<(state: ConnectionState) => void>();
  #published = 0;
  #delivered = 0;
  readonly #dropped: Record<DropReason, number> = {
    oversize: 0,
    'not-json': 0,
    'bad-subject': 0,
    schema: 0,
    'id-mismatch': 0,
  };

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#state = nc.isClosed() ? 'disconnected' : 'connected';
    void this.#watch();
  }

  /** The underlying connection, for JetStream and KV users. */
  get connection(): NatsConnection {
    return this.#nc;
  }

  get status(): ConnectionState {
    return this.#state;
  }

  /** Calls `listener` on every change of `status`; returns the function that stops it. */
  onStatusChange(listener: (state: ConnectionState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #watch(): Promise<void> {
    void this.#nc.closed().then(() => this.#set('disconnected'));
    for await (const s of this.#nc.status()) {
      if (s.type === 'disconnect' || s.type === 'close') this.#set('disconnected');
      else if (s.type === 'reconnect') this.#set('connected');
    }
  }

  #set(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of [...this.#listeners]) {
      try {
        listener(state);
      } catch (err) {
        rethrowLater(err);
      }
    }
  }

  /**
   * Checks `message` against its family's schema and that it speaks for `id`, then
   * publishes it. A message that fails is a bug of ours: RelayError('internal'), nothing
   * sent. While disconnected the NATS client buffers it until it reconnects.
   */
  publish<F extends AnyFamily>(family: F, id: string, message: MessageOf<F>): void {
    const subject = subjectFor(family, id);
    const parsed = schemaFor(family).safeParse(message);
    if (!parsed.success) {
      throw new RelayError(
        'internal',
        `control message fails its schema: ${describe(parsed.error)}`,
        {
          cause: parsed.error,
        },
      );
    }
    if (messageId(family, parsed.data) !== id) {
      throw new RelayError('internal', 'control message id differs from its subject id');
    }
    // The parsed copy, not the caller's object: only the schema's keys can reach the wire.
    const data = Buffer.from(JSON.stringify(parsed.data), 'utf8');
    if (data.length > MAX_MESSAGE_BYTES) {
      throw new RelayError('internal', `control message over ${MAX_MESSAGE_BYTES} bytes`);
    }
    this.#nc.publish(subject, data);
    this.#published += 1;
  }

  /**
   * Hands every valid message of a family to `handler`. Invalid ones (oversize, not JSON,
   * failing the schema, or whose id differs from the subject's) are dropped and counted.
   */
  subscribe<F extends AnyFamily>(
    family: F,
    handler: (delivery: Delivery<F>) => void,
    options: SubscribeOptions = {},
  ): ControlSubscription {
    const subject =
      options.id === undefined ? familyWildcard(family) : subjectFor(family, options.id);
    const schema = schemaFor(family);
    const control = new ControlSubscription(subject, () => sub.unsubscribe());
    const sub = this.#nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) {
          (options.onError ?? rethrowLater)(err);
          return;
        }
        const result = this.#check(family, schema, msg);
        if (typeof result === 'string') {
          this.#dropped[result] += 1;
          control.dropped += 1;
          options.onDrop?.(result, msg.subject);
          return;
        }
        this.#delivered += 1;
        control.delivered += 1;
        try {
          handler(result);
        } catch (handlerErr) {
          (options.onError ?? rethrowLater)(handlerErr);
        }
      },
    });
    return control;
  }

  #check<F extends AnyFamily>(
    family: F,
    schema: z.ZodType<MessageOf<F>>,
    msg: Msg,
  ): Delivery<F> | DropReason {
    if (msg.data.length > MAX_MESSAGE_BYTES) return 'oversize';
    const where = parseSubject(msg.subject);
    if (where === undefined || where.family !== family) return 'bad-subject';
    const json = decodeJson(msg.data);
    if (json === undefined) return 'not-json';
    const parsed = schema.safeParse(json);
    if (!parsed.success) return 'schema';
    if (messageId(family, parsed.data) !== where.id) return 'id-mismatch';
    return { family, id: where.id, message: parsed.data };
  }

  stats(): ControlPlaneStats {
    const droppedByReason = { ...this.#dropped };
    const dropped = Object.values(droppedByReason).reduce((a, b) => a + b, 0);
    return { published: this.#published, delivered: this.#delivered, dropped, droppedByReason };
  }

  /** Resolves once the server has seen everything published and subscribed so far. */
  flush(): Promise<void> {
    return this.#nc.flush();
  }

  /** Drains subscriptions and pending publishes, then closes. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#nc.isClosed()) return;
    if (this.#nc.isDraining()) {
      await this.#nc.closed();
      return;
    }
    await this.#nc.drain();
  }
}

export interface ConnectOptions {
  readonly servers: string | readonly string[];
  readonly user?: string;
  readonly pass?: string;
  /** Client name, shown by the server's monitoring (a relay id, never anything per-flow). */
  readonly name?: string;
  /** Wait between reconnect attempts to one server; default 250 ms. */
  readonly reconnectTimeWaitMs?: number;
  /** Client pings, so a silent network loss is noticed; default 10 s, 2 missed = gone. */
  readonly pingIntervalMs?: number;
  /**
   * Keep trying when no server answers at first (default true): a relay may start while
   * NATS is down and serve from its configuration until the control plane appears.
   */
  readonly waitOnFirstConnect?: boolean;
}

/** Connects with reconnection for ever, so the relay never has to restart to catch up. */
export async function connectControlPlane(options: ConnectOptions): Promise<ControlPlaneClient> {
  const nc = await connect({
    servers: typeof options.servers === 'string' ? options.servers : [...options.servers],
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.pass === undefined ? {} : { pass: options.pass }),
    ...(options.name === undefined ? {} : { name: options.name }),
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 250,
    pingInterval: options.pingIntervalMs ?? 10_000,
    maxPingOut: 2,
    waitOnFirstConnect: options.waitOnFirstConnect ?? true,
  });
  return new ControlPlaneClient(nc);
}
