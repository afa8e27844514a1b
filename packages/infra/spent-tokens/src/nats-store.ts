/**
 * The fleet-wide spent-token store: one JetStream KV bucket in the ingress operator's NATS
 * account, shared by every ingress instance. A claim is KV `create`, which the server performs
 * only if the key has no live value: of any number of concurrent claims of one key, on any
 * instances, exactly one succeeds. The others fail with JetStream's "wrong last sequence"
 * (10071), and only that failure means 'spent'; anything else is an unknown outcome.
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { openSpentBucket } from './bucket.ts';
import { ConnectionWatch } from './connection-watch.ts';
import { ExpiringSet } from './expiring-set.ts';
import {
  SpentStoreConfigError,
  SpentStoreUnavailableError,
  type ClaimResult,
  type SpentTokenStore,
} from './store.ts';
import { assertKvSafeKey } from './token-key.ts';
import { withDeadline, type DeadlineOptions } from '@splitrelay/transport';

export interface NatsSpentTokenStoreOptions {
  /** JetStream KV bucket, e.g. 'splitrelay-spent-tokens' ([-_a-zA-Z0-9]). */
  readonly bucket: string;
  /** Bucket max age: records must outlive the issuing key. */
  readonly ttlMs: number;
  /** Per-claim deadline, then SpentStoreUnavailableError. */
  readonly timeoutMs: number;
  /** 1 by default; 3 on a three-node cluster. Used when the bucket is created. */
  readonly replicas?: number;
  /**
   * Keys this instance already saw spent, remembered in memory (at most this many, oldest
   * dropped first) so a replay on the same instance is refused without a round trip. Only ever
   * answers 'spent'. 10,000 by default; 0 turns it off.
   */
  readonly localCacheSize?: number;
  /** Deadline of each request while opening (creating a replicated bucket takes a while); max(timeoutMs, 5000) by default. */
  readonly openTimeoutMs?: number;
}

const DEFAULT_LOCAL_CACHE_SIZE = 10_000;
const BUCKET_NAME = /^[-\w]+$/;
// An empty value: the record is the key's existence, and carries nothing about the client.
const EMPTY = new Uint8Array(0);

/** Opens (creating if absent) the bucket; rejects with SpentStoreConfigError for an unfit one. */
export async function openNatsSpentTokenStore(
  nc: NatsConnection,
  options: NatsSpentTokenStoreOptions,
): Promise<SpentTokenStore> {
  const replicas = options.replicas ?? 1;
  const localCacheSize = options.localCacheSize ?? DEFAULT_LOCAL_CACHE_SIZE;
  if (!BUCKET_NAME.test(options.bucket)) throw new RangeError('bucket must match [-_a-zA-Z0-9]+');
  if (!(Number.isSafeInteger(options.ttlMs) && options.ttlMs > 0)) {
    throw new RangeError('ttlMs must be a positive integer');
  }
  if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    throw new RangeError('timeoutMs must be positive');
  }
  if (!(Number.isSafeInteger(replicas) && replicas >= 1 && replicas <= 5)) {
    throw new RangeError('replicas must be 1..5');
  }
  if (!(Number.isSafeInteger(localCacheSize) && localCacheSize >= 0)) {
    throw new RangeError('localCacheSize must be a non-negative integer');
  }
  const openTimeoutMs = options.openTimeoutMs ?? Math.max(options.timeoutMs, 5_000);
  let kv: KV;
  try {
    kv = await withDeadline(
      openSpentBucket(nc, {
        bucket: options.bucket,
        ttlMs: options.ttlMs,
        replicas,
        timeoutMs: options.timeoutMs,
        openTimeoutMs,
      }),
      // Opening is a handful of requests, each with its own deadline; this bounds them all.
      deadline(4 * openTimeoutMs),
    );
  } catch (err) {
    if (err instanceof SpentStoreConfigError || err instanceof RangeError) throw err;
    throw new SpentStoreUnavailableError(`cannot open bucket ${options.bucket}`, { cause: err });
  }
  return new NatsSpentTokenStore(nc, kv, {
    ttlMs: options.ttlMs,
    timeoutMs: options.timeoutMs,
    localCacheSize,
  });
}

class NatsSpentTokenStore implements SpentTokenStore {
  readonly #kv: KV;
  readonly #timeoutMs: number;
  readonly #seen: ExpiringSet;
  readonly #seenMax: number;
  readonly #connection: ConnectionWatch;
  readonly #inFlight = new Set<Promise<unknown>>();
  #healthy = true;
  #closed = false;

  constructor(
    nc: NatsConnection,
    kv: KV,
    options: { ttlMs: number; timeoutMs: number; localCacheSize: number },
  ) {
    this.#kv = kv;
    this.#timeoutMs = options.timeoutMs;
    this.#seen = new ExpiringSet(options.ttlMs);
    this.#seenMax = options.localCacheSize;
    this.#connection = new ConnectionWatch(nc);
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  async claim(key: string): Promise<ClaimResult> {
    assertKvSafeKey(key);
    if (this.#closed) throw new SpentStoreUnavailableError('store closed');
    const now = Date.now();
    if (this.#seenMax > 0 && this.#seen.has(key, now)) return 'spent';
    if (!this.#connection.up) {
      this.#healthy = false;
      throw new SpentStoreUnavailableError('NATS disconnected');
    }
    const create = this.#kv.create(key, EMPTY);
    // kv.create may outlive the deadline (on a timeout it makes a second request): close()
    // waits for it, so nothing is left running.
    this.#inFlight.add(create);
    void create.then(
      () => this.#inFlight.delete(create),
      () => this.#inFlight.delete(create),
    );
    let result: ClaimResult;
    try {
      await withDeadline(create, deadline(this.#timeoutMs));
      result = 'fresh';
    } catch (err) {
      if (!isWrongLastSequence(err)) {
        this.#healthy = false;
        throw new SpentStoreUnavailableError(
          err instanceof DeadlineError ? `no answer within ${this.#timeoutMs} ms` : 'claim failed',
          { cause: err },
        );
      }
      result = 'spent';
    }
    this.#healthy = true;
    this.#remember(key);
    return result;
  }

  #remember(key: string): void {
    if (this.#seenMax === 0) return;
    const now = Date.now();
    this.#seen.sweep(now);
    if (this.#seen.size >= this.#seenMax) this.#seen.evictOldest();
    this.#seen.add(key, now);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#connection.stop();
    await Promise.allSettled([...this.#inFlight]);
  }
}

/** The one failure that means the key already has a live value. */
function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      // Newer servers' constant-message variant of the same check (kv.create treats both alike).
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/** `work`, or a DeadlineError after `ms`; the timer never outlives the race. */
function deadline(ms: number): DeadlineOptions {
  return { ms, onTimeout: () => new DeadlineError(`no answer within ${ms} ms`) };
}
