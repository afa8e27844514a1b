/**
 * The three-node cluster of deploy/nats/cluster-node.conf: accounts and exports hold across
 * routes, clustered JetStream keeps INGRESS's bucket, and losing one node stops nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectAs, startNatsCluster, type NatsCluster } from '../src/index.ts';
import { assertNoLeakedHandles, eventually, publishUntilSeen, record } from './helpers.ts';

/** Connected first to node `first`, knowing all three (the order the list is tried in). */
function connectVia(
  role: 'ingress' | 'egress' | 'auditor',
  cluster: NatsCluster,
  first: number,
): Promise<NatsConnection> {
  const urls = [...cluster.urls.slice(first), ...cluster.urls.slice(0, first)];
  return connectAs(role, urls, {
    noRandomize: true,
    reconnectTimeWait: 50,
    maxReconnectAttempts: -1,
  });
}

function connectedNode(nc: NatsConnection, cluster: NatsCluster): number {
  const server = nc.getServer();
  return cluster.urls.findIndex((u) => u.endsWith(server.replace(/^nats:\/\//, '')));
}

async function nextStatus(nc: NatsConnection, type: string): Promise<void> {
  for await (const s of nc.status()) if (s.type === type) return;
}

describe('three-node cluster', () => {
  let cluster: NatsCluster;
  let ingress: NatsConnection;
  let egress: NatsConnection;
  let auditor: NatsConnection;

  before(async () => {
    cluster = await startNatsCluster();
    [ingress, egress, auditor] = await Promise.all([
      connectVia('ingress', cluster, 0),
      connectVia('egress', cluster, 1),
      connectVia('auditor', cluster, 2),
    ]);
  });

  after(async () => {
    await Promise.all([ingress, egress, auditor].map((nc) => nc?.close()));
    await cluster?.stop();
    await assertNoLeakedHandles();
  });

  it('each client is on its own node', () => {
    assert.deepEqual(
      [ingress, egress, auditor].map((nc) => connectedNode(nc, cluster)),
      [0, 1, 2],
    );
  });

  it('crossing subjects flow between nodes and accounts', async () => {
    const health = record(ingress.subscribe('splitrelay.health.egress.>'));
    const certs = record(egress.subscribe('splitrelay.trunk.ingress-cert.>'));
    const audit = record(auditor.subscribe('splitrelay.>'));
    await publishUntilSeen(egress, 'splitrelay.health.egress.e1', [health, audit]);
    await publishUntilSeen(ingress, 'splitrelay.trunk.ingress-cert.i1', [certs, audit]);
  });

  it('with one node killed, clients move and messages and a replicated KV keep working', async () => {
    const kv = await new Kvm(ingress).create('spent-tokens', { replicas: 3 });
    await kv.put('token-a', 'spent');
    const health = record(ingress.subscribe('splitrelay.health.egress.>'));
    const audit = record(auditor.subscribe('splitrelay.health.egress.>'));
    await publishUntilSeen(egress, 'splitrelay.health.egress.before-kill', [health, audit]);

    // The node the ingress client is on dies: the client must move to another one.
    const dead = connectedNode(ingress, cluster);
    const moved = nextStatus(ingress, 'reconnect');
    await cluster.stopNode(dead, 'SIGKILL');
    await moved;
    assert.notEqual(connectedNode(ingress, cluster), dead);

    await publishUntilSeen(egress, 'splitrelay.health.egress.after-kill', [health, audit]);

    // Raft keeps the bucket with 2 of 3 peers; if the dead node led the bucket's stream,
    // writes wait for a new leader (a few seconds on 2.9; a put times out after 5 s).
    await eventually('a write with two nodes of three', () => kv.put('token-b', 'spent'), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    assert.equal((await kv.get('token-a'))?.string(), 'spent');
    assert.equal((await kv.get('token-b'))?.string(), 'spent');
    await assert.rejects(kv.create('token-a', 'again'));

    // The node comes back with its store and rejoins.
    await cluster.restartNode(dead);
    assert.ok(cluster.nodes[dead]!.running);
  });
});
