/**
 * Three nats-servers running deploy/nats/cluster-node.conf with clustered JetStream: the bucket
 * is replicated three times, instances on different nodes share it, and losing one node stops
 * nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectAs, startNatsCluster, type NatsCluster } from '@splitrelay/nats-kit';
import { openNatsSpentTokenStore, type SpentTokenStore } from '../src/index.ts';
import { eventually } from '@splitrelay/test-kit/eventually';
import { assertNoLeakedHandles, randomTokenKey } from './helpers.ts';

const BUCKET = 'splitrelay-spent-tokens';
const options = {
  bucket: BUCKET,
  ttlMs: 3_600_000,
  timeoutMs: 2_000,
  replicas: 3,
  localCacheSize: 0,
};

/** Connected first to node `first`, knowing all three. */
function connectVia(cluster: NatsCluster, first: number): Promise<NatsConnection> {
  const urls = [...cluster.urls.slice(first), ...cluster.urls.slice(0, first)];
  return connectAs('ingress', urls, {
    noRandomize: true,
    reconnectTimeWait: 50,
    maxReconnectAttempts: -1,
  });
}

describe('three-node cluster, replicas 3', { timeout: 90_000 }, () => {
  let cluster: NatsCluster;
  let nc0: NatsConnection;
  let nc2: NatsConnection;
  let s0: SpentTokenStore;
  let s2: SpentTokenStore;

  before(async () => {
    cluster = await startNatsCluster();
    [nc0, nc2] = await Promise.all([connectVia(cluster, 0), connectVia(cluster, 2)]);
    s0 = await openNatsSpentTokenStore(nc0, options);
    s2 = await openNatsSpentTokenStore(nc2, options);
  });

  after(async () => {
    await Promise.all([s0?.close(), s2?.close()]);
    await Promise.all([nc0?.close(), nc2?.close()]);
    await cluster?.stop();
    await assertNoLeakedHandles();
  });

  it('the bucket has three replicas', async () => {
    const jsm = await jetstreamManager(nc0);
    const info = await jsm.streams.info(`KV_${BUCKET}`);
    assert.equal(info.config.num_replicas, 3);
    assert.equal(info.cluster?.replicas?.length, 2, 'a leader and two followers');
  });

  it('instances on different nodes share it; concurrent claims: exactly one fresh', async () => {
    const key = randomTokenKey();
    assert.equal(await s0.claim(key), 'fresh');
    assert.equal(await s2.claim(key), 'spent');
    for (let round = 0; round < 3; round++) {
      const k = randomTokenKey();
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 ? s0 : s2).claim(k)),
      );
      assert.equal(results.filter((r) => r === 'fresh').length, 1);
    }
  });

  it("with the stream leader's node down, claims fail closed, then work on the other two", async (t) => {
    const earlier = randomTokenKey();
    assert.equal(await s0.claim(earlier), 'fresh');
    const jsm = await jetstreamManager(nc2);
    const leader = (await jsm.streams.info(`KV_${BUCKET}`)).cluster?.leader;
    const down = cluster.nodes.findIndex((n) => n.serverName === leader);
    assert.ok(down >= 0, `leader ${leader} is one of the nodes`);
    await cluster.stopNode(down, 'SIGKILL');
    // The other two elect a new leader; until then claims are refused, never answered wrongly.
    const t0 = performance.now();
    let refused = 0;
    const key = randomTokenKey();
    const first = down === 0 ? s2 : s0;
    const second = first === s0 ? s2 : s0;
    const countRefusal = (err: unknown): never => {
      refused++;
      throw err;
    };
    assert.equal(
      await eventually('a claim on the cluster', () => first.claim(key).catch(countRefusal), {
        timeoutMs: 20_000,
      }),
      'fresh',
    );
    t.diagnostic(
      `stream leader ${leader} killed: claims answered again after ${Math.round(performance.now() - t0)} ms (${refused} refused meanwhile)`,
    );
    assert.equal(
      await eventually('the claim seen by another node', () => second.claim(key), {
        timeoutMs: 10_000,
      }),
      'spent',
    );
    assert.equal(
      await eventually('the earlier claim seen by another node', () => second.claim(earlier), {
        timeoutMs: 10_000,
      }),
      'spent',
    );
    await cluster.restartNode(down);
  });
});
