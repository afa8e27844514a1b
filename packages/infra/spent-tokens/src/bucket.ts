/**
 * Finding or making the JetStream KV bucket that holds spent tokens, and refusing one that
 * cannot keep them long enough.
 *
 * Expiry is the bucket's `ttl` (the stream's max_age): nats-server before 2.11 silently
 * ignores per-key TTLs, so a record lives exactly as long as the bucket says, and that must be
 * at least as long as the issuing key, or a token could be spent again once its record is gone.
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { SpentStoreConfigError } from './store.ts';

export interface BucketSpec {
  readonly bucket: string;
  readonly ttlMs: number;
  readonly replicas: number;
  /** Deadline of each request made while opening. */
  readonly openTimeoutMs: number;
  /** Deadline of each request made by the returned KV (the claims). */
  readonly timeoutMs: number;
}

const NANOS_PER_MS = 1_000_000;

/** The bucket, created (history 1, file storage, the ttl) if absent, checked if present. */
export async function openSpentBucket(nc: NatsConnection, spec: BucketSpec): Promise<KV> {
  const jsm = await jetstreamManager(nc, { timeout: spec.openTimeoutMs });
  const stream = `KV_${spec.bucket}`;
  let info = await streamInfo(jsm, stream);
  if (info === undefined) {
    try {
      await new Kvm(jetstream(nc, { timeout: spec.openTimeoutMs })).create(spec.bucket, {
        history: 1,
        ttl: spec.ttlMs,
        replicas: spec.replicas,
        storage: StorageType.File,
        description: 'SplitRelay spent Privacy Pass tokens (keys only, empty values)',
      });
    } catch (err) {
      // Another instance may have made it first (with a config of its own): judge that one.
      info = await streamInfo(jsm, stream);
      if (info === undefined) throw err;
    }
    info ??= await jsm.streams.info(stream);
  }
  checkBucket(info.config, spec);
  return new Kvm(jetstream(nc, { timeout: spec.timeoutMs })).open(spec.bucket, {
    allow_direct: info.config.allow_direct === true,
  });
}

async function streamInfo(jsm: JetStreamManager, stream: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(stream);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
      return undefined;
    }
    throw err;
  }
}

/** Refuses a bucket whose records could disappear before `spec.ttlMs`. */
function checkBucket(config: StreamConfig, spec: Pick<BucketSpec, 'bucket' | 'ttlMs'>): void {
  const name = `bucket ${spec.bucket}`;
  if (!config.subjects?.includes(`$KV.${spec.bucket}.>`)) {
    throw new SpentStoreConfigError(`${name} exists but is not a KV bucket`);
  }
  // max_age 0 is "no limit": records outlive any key (the operator then owns the growth).
  if (config.max_age > 0 && config.max_age < spec.ttlMs * NANOS_PER_MS) {
    throw new SpentStoreConfigError(
      `${name} keeps records ${config.max_age / NANOS_PER_MS} ms but ${spec.ttlMs} ms are needed: ` +
        'spent tokens would be forgotten while their key is still valid; raise its ttl ' +
        '(nats stream edit) or remove it',
    );
  }
  if (config.storage !== StorageType.File) {
    throw new SpentStoreConfigError(
      `${name} is in memory: spent tokens would be forgotten when NATS restarts`,
    );
  }
  // A byte limit evicts even with discard=new on nats-server 2.9: its discard=new check counts
  // only payload and headers, the store then counts the whole record and drops the oldest ones
  // to fit (test/nats-store.test.ts shows it). The account's JetStream limit refuses instead.
  if (config.max_bytes > 0) {
    throw new SpentStoreConfigError(
      `${name} has max_bytes: nats-server evicts its oldest records to fit it, even with ` +
        'discard=new; rely on the account limit instead, which refuses writes',
    );
  }
  if (config.max_msgs > 0 && config.discard !== DiscardPolicy.New) {
    throw new SpentStoreConfigError(
      `${name} has max_msgs with discard=old: live records could be evicted`,
    );
  }
  if (config.sealed) throw new SpentStoreConfigError(`${name} is sealed`);
}
