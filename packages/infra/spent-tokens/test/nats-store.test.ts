/**
 * The fleet store against a real nats-server running deploy/nats/single.conf, connected as the
 * `ingress` user of deploy/nats/accounts.conf (so the permissions are the deployment's own).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DiscardPolicy,
  jetstreamManager,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  connectAs,
  startNats,
  watchPermissionErrors,
  type NatsServer,
  type PermissionErrors,
} from '@splitrelay/nats-kit';
import {
  openNatsSpentTokenStore,
  SpentStoreConfigError,
  SpentStoreUnavailableError,
  type SpentTokenStore,
} from '../src/index.ts';
import { assertNoLeakedHandles, delay, quantile, randomTokenKey } from './helpers.ts';

const BUCKET = 'splitrelay-spent-tokens';
const HOUR_MS = 3_600_000;
const NANOS_PER_MS = 1_000_000;

describe('NATS spent-token store', { timeout: 120_000 }, () => {
  let server: NatsServer;
  let nc1: NatsConnection;
  let nc2: NatsConnection;
  let violations1: PermissionErrors;
  let violations2: PermissionErrors;
  let jsm: JetStreamManager;
  let a: SpentTokenStore;
  let b: SpentTokenStore;

  before(async () => {
    server = await startNats();
    [nc1, nc2] = await Promise.all([
      connectAs('ingress', server.url),
      connectAs('ingress', server.url),
    ]);
    violations1 = watchPermissionErrors(nc1);
    violations2 = watchPermissionErrors(nc2);
    jsm = await jetstreamManager(nc1);
    // Two ingress instances: separate connections, one bucket (the first one creates it).
    a = await openNatsSpentTokenStore(nc1, { bucket: BUCKET, ttlMs: HOUR_MS, timeoutMs: 2_000 });
    b = await openNatsSpentTokenStore(nc2, { bucket: BUCKET, ttlMs: HOUR_MS, timeoutMs: 2_000 });
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    assert.deepEqual(violations1?.seen, [], 'the ingress user needs no more permissions');
    assert.deepEqual(violations2?.seen, []);
    await Promise.all([nc1?.close(), nc2?.close()]);
    await server?.stop();
    await assertNoLeakedHandles();
  });

  it('claims fresh, then spent on the same store', async () => {
    const key = randomTokenKey();
    assert.equal(await a.claim(key), 'fresh');
    assert.equal(await a.claim(key), 'spent');
    assert.equal(a.healthy, true);
  });

  it('a token spent on one instance is spent on the other', async () => {
    const key = randomTokenKey();
    assert.equal(await a.claim(key), 'fresh');
    assert.equal(await b.claim(key), 'spent');
    const other = randomTokenKey();
    assert.equal(await b.claim(other), 'fresh');
    assert.equal(await a.claim(other), 'spent');
  });

  it('200 concurrent claims of one key across two instances: exactly one fresh', async () => {
    for (let round = 0; round < 5; round++) {
      const key = randomTokenKey();
      const claims = Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).claim(key));
      const results = await Promise.all(claims);
      assert.equal(results.filter((r) => r === 'fresh').length, 1, `round ${round}`);
      assert.equal(results.filter((r) => r === 'spent').length, 199);
    }
  });

  it('many distinct keys claimed concurrently are each fresh exactly once', async () => {
    const keys = Array.from({ length: 100 }, () => randomTokenKey());
    const results = await Promise.all(keys.flatMap((k) => [a.claim(k), b.claim(k), a.claim(k)]));
    for (let i = 0; i < keys.length; i++) {
      const mine = results.slice(3 * i, 3 * i + 3);
      assert.equal(mine.filter((r) => r === 'fresh').length, 1);
    }
  });

  it('stores nothing but the key: the value is empty', async () => {
    const key = randomTokenKey();
    await a.claim(key);
    const entry = await (await new Kvm(nc1).open(BUCKET)).get(key);
    assert.ok(entry);
    assert.equal(entry.operation, 'PUT');
    assert.equal(entry.length, 0);
  });

  it('creates the bucket with history 1, file storage, the ttl and discard new', async () => {
    const { config } = await jsm.streams.info(`KV_${BUCKET}`);
    assert.equal(config.max_age, HOUR_MS * NANOS_PER_MS);
    assert.equal(config.max_msgs_per_subject, 1);
    assert.equal(config.storage, StorageType.File);
    assert.equal(config.num_replicas, 1);
    assert.equal(config.discard, 'new');
    const status = await (await new Kvm(nc1).open(BUCKET)).status();
    assert.equal(status.ttl, HOUR_MS);
    assert.equal(status.history, 1);
  });

  it('opens an existing bucket whose ttl is as long or longer', async () => {
    const shorter = await openNatsSpentTokenStore(nc2, {
      bucket: BUCKET,
      ttlMs: HOUR_MS / 2,
      timeoutMs: 2_000,
    });
    assert.equal(await shorter.claim(randomTokenKey()), 'fresh');
    await shorter.close();
    const { config } = await jsm.streams.info(`KV_${BUCKET}`);
    assert.equal(config.max_age, HOUR_MS * NANOS_PER_MS, 'an existing bucket is left as it is');
  });

  it('refuses an existing bucket whose ttl is shorter than asked', async () => {
    await new Kvm(nc1).create('short-ttl', { history: 1, ttl: 60_000 });
    await assert.rejects(
      openNatsSpentTokenStore(nc1, { bucket: 'short-ttl', ttlMs: HOUR_MS, timeoutMs: 2_000 }),
      (err: unknown) =>
        err instanceof SpentStoreConfigError &&
        /keeps records 60000 ms but 3600000 ms are needed/.test(err.message),
    );
  });

  it('refuses an existing bucket in memory, or one that may evict live records', async () => {
    await new Kvm(nc1).create('in-memory', { ttl: HOUR_MS, storage: StorageType.Memory });
    await assert.rejects(
      openNatsSpentTokenStore(nc1, { bucket: 'in-memory', ttlMs: HOUR_MS, timeoutMs: 2_000 }),
      /in memory/,
    );
    await jsm.streams.add({
      name: 'KV_evicting',
      subjects: ['$KV.evicting.>'],
      max_age: HOUR_MS * NANOS_PER_MS,
      max_msgs: 1_000,
      discard: DiscardPolicy.Old,
      storage: StorageType.File,
    });
    await assert.rejects(
      openNatsSpentTokenStore(nc1, { bucket: 'evicting', ttlMs: HOUR_MS, timeoutMs: 2_000 }),
      /evicted/,
    );
  });

  it('a full bucket (max_msgs, discard new) fails closed and keeps its records', async () => {
    await new Kvm(nc1).create('small', { history: 1, ttl: HOUR_MS });
    await jsm.streams.update('KV_small', { max_msgs: 20 });
    const store = await openNatsSpentTokenStore(nc1, {
      bucket: 'small',
      ttlMs: HOUR_MS,
      timeoutMs: 2_000,
      localCacheSize: 0,
    });
    try {
      const claimed = Array.from({ length: 20 }, () => randomTokenKey());
      for (const key of claimed) assert.equal(await store.claim(key), 'fresh');
      await assert.rejects(store.claim(randomTokenKey()), SpentStoreUnavailableError);
      assert.equal(store.healthy, false);
      for (const key of claimed) assert.equal(await store.claim(key), 'spent');
      assert.equal(store.healthy, true);
    } finally {
      await store.close();
    }
  });

  it('refuses a bucket with max_bytes: nats-server 2.9 evicts to fit it even with discard new', async () => {
    const kv = await new Kvm(nc1).create('byte-limited', {
      history: 1,
      ttl: HOUR_MS,
      max_bytes: 4_096,
    });
    await assert.rejects(
      openNatsSpentTokenStore(nc1, { bucket: 'byte-limited', ttlMs: HOUR_MS, timeoutMs: 2_000 }),
      (err: unknown) => err instanceof SpentStoreConfigError && /max_bytes/.test(err.message),
    );
    // Why: fill it through KV create, as claims would.
    const { config } = await jsm.streams.info('KV_byte-limited');
    assert.equal(config.discard, 'new');
    const keys = Array.from({ length: 200 }, () => randomTokenKey());
    let written = 0;
    for (const key of keys) {
      const ok = await kv.create(key, new Uint8Array(0)).then(
        () => true,
        () => false,
      );
      if (!ok) break;
      written++;
    }
    const { state } = await jsm.streams.info('KV_byte-limited');
    assert.ok(state.first_seq > 1, 'nothing evicted: has the server stopped evicting?');
    assert.ok(state.messages < written);
    // The first record is gone: its token could be spent a second time.
    assert.equal(await kv.get(keys[0]!), null);
  });

  it("a record lives as long as the bucket's ttl, then the key is fresh again", async () => {
    const store = await openNatsSpentTokenStore(nc1, {
      bucket: 'one-second',
      ttlMs: 1_000,
      timeoutMs: 2_000,
    });
    try {
      const key = randomTokenKey();
      const start = Date.now();
      assert.equal(await store.claim(key), 'fresh');
      assert.equal(await store.claim(key), 'spent');
      // The server expires by max_age on its own schedule; the local cache by ttlMs.
      let again: string;
      while ((again = await store.claim(key)) === 'spent') {
        assert.ok(Date.now() - start < 6_000, 'the record never expired');
        await delay(100);
      }
      assert.equal(again, 'fresh');
      assert.ok(Date.now() - start >= 1_000, 'expired before its ttl');
    } finally {
      await store.close();
    }
  });

  it('a replay on the same instance is refused without a round trip', async () => {
    const key = randomTokenKey();
    assert.equal(await a.claim(key), 'fresh');
    const before = nc1.stats().outMsgs;
    for (let i = 0; i < 100; i++) assert.equal(await a.claim(key), 'spent');
    assert.equal(nc1.stats().outMsgs, before);
    // Spent elsewhere is learnt once, then remembered too.
    const elsewhere = randomTokenKey();
    assert.equal(await b.claim(elsewhere), 'fresh');
    assert.equal(await a.claim(elsewhere), 'spent');
    const before2 = nc1.stats().outMsgs;
    assert.equal(await a.claim(elsewhere), 'spent');
    assert.equal(nc1.stats().outMsgs, before2);
  });

  it('with the local cache off every claim asks the server', async () => {
    const store = await openNatsSpentTokenStore(nc1, {
      bucket: BUCKET,
      ttlMs: HOUR_MS,
      timeoutMs: 2_000,
      localCacheSize: 0,
    });
    const key = randomTokenKey();
    assert.equal(await store.claim(key), 'fresh');
    const before = nc1.stats().outMsgs;
    assert.equal(await store.claim(key), 'spent');
    assert.ok(nc1.stats().outMsgs > before);
    await store.close();
  });

  it('rejects a key that is not KV-safe, and refuses bad options', async () => {
    await assert.rejects(a.claim('token.>'), TypeError);
    await assert.rejects(a.claim(''), TypeError);
    const base = { bucket: BUCKET, ttlMs: HOUR_MS, timeoutMs: 2_000 };
    for (const bad of [
      { ...base, bucket: 'has.dot' },
      { ...base, ttlMs: 0 },
      { ...base, timeoutMs: 0 },
      { ...base, replicas: 0 },
      { ...base, localCacheSize: -1 },
    ]) {
      await assert.rejects(openNatsSpentTokenStore(nc1, bad), RangeError);
    }
  });

  it('claim latency over 1,000 claims (printed)', async (t) => {
    const store = await openNatsSpentTokenStore(nc1, {
      bucket: BUCKET,
      ttlMs: HOUR_MS,
      timeoutMs: 2_000,
      localCacheSize: 0,
    });
    try {
      const keys = Array.from({ length: 1_000 }, () => randomTokenKey());
      for (const k of keys.slice(0, 50)) await store.claim(k); // warm-up
      const fresh: number[] = [];
      for (const k of keys.slice(50)) {
        const t0 = performance.now();
        assert.equal(await store.claim(k), 'fresh');
        fresh.push(performance.now() - t0);
      }
      const spent: number[] = [];
      for (const k of keys.slice(50, 550)) {
        const t0 = performance.now();
        assert.equal(await store.claim(k), 'spent');
        spent.push(performance.now() - t0);
      }
      const concurrentKeys = Array.from({ length: 1_000 }, () => randomTokenKey());
      const t0 = performance.now();
      await Promise.all(concurrentKeys.map((k) => store.claim(k)));
      const perSecond = (1_000 / (performance.now() - t0)) * 1_000;
      const ms = (x: number): string => `${x.toFixed(2)} ms`;
      const line =
        `claim latency, sequential: fresh p50 ${ms(quantile(fresh, 0.5))} p99 ${ms(quantile(fresh, 0.99))} ` +
        `(n=${fresh.length}); spent (server round trip, cache off) p50 ${ms(quantile(spent, 0.5))} ` +
        `p99 ${ms(quantile(spent, 0.99))} (n=${spent.length}); ` +
        `1,000 concurrent fresh claims: ${Math.round(perSecond)} claims/s`;
      t.diagnostic(line);
      console.log(line);
      const { state } = await jsm.streams.info(`KV_${BUCKET}`);
      const bytesLine = `bucket: ${state.messages} records, ${Math.round(state.bytes / state.messages)} bytes per record on disk`;
      t.diagnostic(bytesLine);
      console.log(bytesLine);
      assert.ok(quantile(fresh, 0.5) < 50, 'a loopback claim takes well under 50 ms');
    } finally {
      await store.close();
    }
  });
});
