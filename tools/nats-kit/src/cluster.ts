/**
 * Three nats-servers running deploy/nats/cluster-node.conf, routed to each other, with
 * clustered JetStream. Ready once every node knows the JetStream metadata leader: before that,
 * creating a stream or a KV bucket fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_NODE_CONF, natsServerBinary } from './config-files.ts';
import { passwordEnv, TEST_ROUTE_PASSWORD } from './credentials.ts';
import { NatsNode, type NatsServer } from './nats-server.ts';
import { freePort, hostPort, NATS_HOSTS } from './ports.ts';

export interface StartNatsClusterOptions {
  /** Three loopback addresses, one per node; 127.0.7.1..3 by default. */
  readonly hosts?: readonly string[];
  readonly readyTimeoutMs?: number;
}

export interface NatsCluster {
  /** Client URLs of the three nodes, in node order (give them all to a client). */
  readonly urls: string[];
  readonly nodes: NatsServer[];
  /** Takes one node away (SIGTERM by default; SIGKILL for a crash), keeping its store. */
  stopNode(index: number, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts a node again (same ports, same store); resolves once it knows the JetStream leader. */
  restartNode(index: number): Promise<void>;
  /** Every node down for good, directories removed. */
  stop(): Promise<void>;
}

const META_LEADER =
  /JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader/;

export async function startNatsCluster(
  options: StartNatsClusterOptions = {},
): Promise<NatsCluster> {
  const hosts = options.hosts ?? NATS_HOSTS;
  if (hosts.length !== 3) throw new Error('a SplitRelay NATS cluster has three nodes');
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const dir = await mkdtemp(join(tmpdir(), 'splitrelay-nats-cluster-'));
  const ports = await Promise.all(
    hosts.map(async (host) => ({ client: await freePort(host), route: await freePort(host) })),
  );
  const routes: Record<string, string> = {};
  hosts.forEach((host, i) => {
    routes[`SPLITRELAY_NATS_ROUTE_${i + 1}`] =
      `nats-route://route:${TEST_ROUTE_PASSWORD}@${hostPort(host, ports[i]!.route)}`;
  });
  const nodes = hosts.map((host, i) => {
    const serverName = `nats-${i + 1}`;
    const storeDir = join(dir, serverName);
    const port = ports[i]!.client;
    return new NatsNode({
      binary: natsServerBinary(),
      configFile: CLUSTER_NODE_CONF,
      env: {
        ...passwordEnv(),
        ...routes,
        SPLITRELAY_NATS_ROUTE_PASSWORD: TEST_ROUTE_PASSWORD,
        SPLITRELAY_NATS_SERVER_NAME: serverName,
        SPLITRELAY_NATS_LISTEN: hostPort(host, port),
        SPLITRELAY_NATS_CLUSTER_LISTEN: hostPort(host, ports[i]!.route),
        SPLITRELAY_NATS_STORE_DIR: storeDir,
      },
      readyTimeoutMs,
      host,
      port,
      serverName,
      storeDir,
      ownedDir: undefined,
    });
  });
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  const giveUp = new AbortController();
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await Promise.all(
      nodes.map((n) =>
        n.waitForLog(META_LEADER, { timeoutMs: readyTimeoutMs, signal: giveUp.signal }),
      ),
    );
  } catch (err) {
    giveUp.abort(err);
    await stop();
    throw err;
  }
  const nodeAt = (index: number): NatsNode => {
    const node = nodes[index];
    if (!node) throw new Error(`no node ${index}`);
    return node;
  };
  return {
    urls: nodes.map((n) => n.url),
    nodes,
    stop,
    async stopNode(index, signal = 'SIGTERM') {
      await nodeAt(index).kill(signal);
    },
    async restartNode(index) {
      const node = nodeAt(index);
      await node.restart();
      await node.waitForLog(META_LEADER, { timeoutMs: readyTimeoutMs });
    },
  };
}
