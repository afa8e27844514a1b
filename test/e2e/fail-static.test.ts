/**
 * Fail static and catch-up: NATS stops during traffic, the relays keep serving on the last
 * verified state and say `stale`; NATS comes back, they catch up without a restart. And a
 * three-node NATS cluster keeps the control plane working when the node a relay is connected
 * to dies, for each relay in turn.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  startNats,
  startNatsCluster,
  type NatsCluster,
  type NatsServer,
} from '@splitrelay/nats-kit';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { eventually } from '@splitrelay/test-kit/eventually';
import type { RunningApp } from '@splitrelay/local-deployment';
import { TCP_ESTABLISHED, ownSockets } from '@splitrelay/transport';

const T = { timeout: 90_000 };

const WAIT = { timeoutMs: 15_000 };
const healthOf = async (
  world: World,
): Promise<{ controlPlane: string; egresses: Record<string, string> }> =>
  (await (await fetch(world.ingressHealthUrl)).json()) as {
    controlPlane: string;
    egresses: Record<string, string>;
  };
/** The ingress is connected to the control plane and sees egress-1 up. */
const allUp = async (world: World): Promise<boolean> => {
  const h = await healthOf(world);
  return h.controlPlane === 'ok' && h.egresses['egress-1'] === 'up';
};

async function echoOnce(world: World, port: number, bytes = 256 * 1024): Promise<void> {
  const client = sdkClient(world);
  try {
    const flow = await client.connect({ host: ADDR.target, port });
    const payload = randomBytes(bytes);
    const hash = createHash('sha256');
    flow.on('data', (c: Buffer) => hash.update(c));
    const ended = new Promise((r) => flow.once('end', r));
    flow.end(payload);
    await ended;
    assert.equal(hash.digest('hex'), createHash('sha256').update(payload).digest('hex'));
  } finally {
    client.close();
  }
}

describe('NATS stops during traffic', T, () => {
  let nats: NatsServer;
  let world: World;
  let echo: Awaited<ReturnType<typeof echoTarget>>;
  let pump: NodeJS.Timeout | undefined;
  let client: ReturnType<typeof sdkClient> | undefined;
  after(async () => {
    clearInterval(pump);
    client?.close();
    await echo?.close();
    await world?.stop();
    await world?.cleanup();
    await nats?.stop();
  });

  test('traffic continues, health says stale, and the relays catch up when NATS returns', async () => {
    nats = await startNats({ host: '127.0.7.1' });
    world = await startWorld({ natsServers: [nats.url], logLevel: 'info', heartbeatMs: 300 });
    echo = await echoTarget(ADDR.target);
    await eventually(
      'egress up',
      async () => (await healthOf(world)).egresses['egress-1'] === 'up',
      WAIT,
    );

    // A flow that streams across the outage.
    client = sdkClient(world);
    const flow = await client.connect({ host: ADDR.target, port: echo.port });
    const sent = createHash('sha256');
    const got = createHash('sha256');
    let received = 0;
    flow.on('data', (c: Buffer) => {
      got.update(c);
      received += c.length;
    });
    pump = setInterval(() => {
      const chunk = randomBytes(8192);
      sent.update(chunk);
      flow.write(chunk);
    }, 20);

    await nats.kill();
    await eventually(
      'ingress to report stale',
      async () => (await healthOf(world)).controlPlane === 'stale',
      WAIT,
    );
    await new Promise((r) => setTimeout(r, 2000)); // several heartbeat ttls of silence
    const during = await healthOf(world);
    assert.equal(
      during.egresses['egress-1'],
      'up',
      'silence during an outage does not take the egress down',
    );
    await echoOnce(world, echo.port); // new sessions and flows still work
    await eventually(
      'the stale state in the ingress log',
      async () => world.ingress.lines.some((l) => l.includes('control plane: stale')),
      WAIT,
    );

    await nats.restart();
    await eventually('ingress to catch up', () => allUp(world), WAIT);
    await eventually(
      'the egress to log its reconnection',
      async () => world.egresses[0]!.lines.some((l) => l.includes('control plane: ok')),
      WAIT,
    );
    clearInterval(pump);
    const done = new Promise((r) => flow.once('end', r));
    flow.end();
    await done;
    assert.ok(received > 100_000);
    assert.equal(got.digest('hex'), sent.digest('hex'), 'the long flow lost nothing');
    client.close();
    for (const app of [world.ingress, ...world.egresses]) assert.equal(app.process.exitCode, null);
  });
});

describe('a three-node NATS cluster loses the node a relay is on', T, () => {
  let cluster: NatsCluster;
  let world: World;
  let echo: Awaited<ReturnType<typeof echoTarget>>;
  after(async () => {
    await echo?.close();
    await world?.stop();
    await world?.cleanup();
    await cluster?.stop();
  });

  /**
   * The node a relay's control-plane connection is on, read from the kernel's socket table
   * (the client library picks a server at random, so the test must look, not assume).
   */
  const nodeOf = async (app: RunningApp): Promise<number | undefined> => {
    const rows = (await ownSockets('tcp', app.pid)).filter((r) => r.state === TCP_ESTABLISHED);
    const on = cluster.nodes.flatMap((node, i) =>
      node.running &&
      rows.some((r) => r.remotePort === node.port && r.remoteAddress.endsWith(node.host))
        ? [i]
        : [],
    );
    return on.length === 1 ? on[0] : undefined;
  };

  test('each relay fails over to another node, and heartbeats reach the ingress after it', async () => {
    const HEARTBEAT_MS = 300;
    const TTL_MS = 3 * HEARTBEAT_MS;
    cluster = await startNatsCluster({});
    world = await startWorld({
      natsServers: cluster.urls,
      logLevel: 'info',
      heartbeatMs: HEARTBEAT_MS,
    });
    echo = await echoTarget(ADDR.target);
    await eventually('egress up', () => allUp(world), WAIT);
    for (const relay of [world.egresses[0]!, world.ingress]) {
      const node = await eventually(`the ${relay.name}'s NATS node`, () => nodeOf(relay), WAIT);
      await cluster.stopNode(node, 'SIGKILL');
      const killedAt = Date.now();
      const next = await eventually(
        `the ${relay.name} to reconnect to another node`,
        async () => {
          const now = await nodeOf(relay);
          return now !== undefined && now !== node ? now : undefined;
        },
        WAIT,
      );
      // Health expires on the ingress's clock, receipt + ttl: 'up' once a ttl has passed since
      // the kill means a heartbeat crossed the cluster after it (a lower bound, not a race).
      await new Promise((r) => setTimeout(r, Math.max(0, killedAt + TTL_MS - Date.now())));
      await eventually(
        `egress up again with the ${relay.name} on node ${next}`,
        () => allUp(world),
        WAIT,
      );
      await echoOnce(world, echo.port);
      await cluster.restartNode(node);
    }
  });
});
