/**
 * One SplitRelay world on loopback for an end-to-end test: real egress, ingress and client
 * processes with their real configs, each role on its own address:
 *   client source 127.0.1.1 → ingress 127.0.2.1 → egress 127.0.3.x → targets 127.0.4.1
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, prepareDeployment, startApp, type Deployment, type RunningApp } from '@splitrelay/local-deployment';

export const ADDR = {
  client: '127.0.1.1',
  ingress: '127.0.2.1',
  egress: (i: number) => `127.0.3.${i + 1}`,
  target: '127.0.4.1',
} as const;

export const INGRESS_NAME = 'ingress.splitrelay.test';
export const TARGET_NAME = 'target.splitrelay.test';

export interface WorldOptions {
  readonly egresses?: number;
  /** Egress allowlist; the targets' range by default (loopback is otherwise refused). */
  readonly allowCidrs?: readonly string[];
  readonly egressExtra?: Record<string, unknown>;
  readonly ingressExtra?: Record<string, unknown>;
  readonly clientExtra?: Record<string, unknown>;
  readonly logLevel?: string;
}

export interface World {
  readonly deployment: Deployment;
  readonly egresses: RunningApp[];
  readonly ingress: RunningApp;
  readonly client: RunningApp;
  readonly ingressPort: number;
  readonly socksPort: number;
  readonly httpPort: number;
  readonly egressIds: string[];
  /** Config object the client was started with (tests start more clients from it). */
  readonly clientConfig: Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'splitrelay-e2e-'));
  const count = options.egresses ?? 1;
  const egressSpecs = await Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      id: `egress-${i + 1}`,
      host: ADDR.egress(i),
      port: await freePort(ADDR.egress(i)),
      region: i % 2 === 0 ? 'eu' : 'us',
    })),
  );
  const deployment = await prepareDeployment({
    dir,
    ingressHost: ADDR.ingress,
    ingressName: INGRESS_NAME,
    egresses: egressSpecs,
    targetHosts: [ADDR.target],
    targetName: TARGET_NAME,
  });
  const level = options.logLevel ?? 'debug';
  const started: RunningApp[] = [];
  try {
    for (const e of egressSpecs) {
      const file = await deployment.writeConfig(`egress-${e.id}`, {
        egressId: e.id,
        listen: `${e.host}:${e.port}`,
        tls: deployment.egress[e.id],
        knownIngresses: [{ name: 'ingress-1', cert: deployment.ingress.trunkCert }],
        policy: { allowCidrs: options.allowCidrs ?? ['127.0.4.0/24'] },
        localAddress: e.host,
        log: { level, statsIntervalMs: 1000, flows: false },
        ...options.egressExtra,
      });
      started.push(await startApp('egress', file));
    }
    const ingressFile = await deployment.writeConfig('ingress', {
      listen: `${ADDR.ingress}:0`,
      tls: { cert: deployment.ingress.cert, key: deployment.ingress.key },
      trunk: { cert: deployment.ingress.trunkCert, key: deployment.ingress.trunkKey, localAddress: ADDR.ingress },
      directory: { file: deployment.directoryFile, operatorKeys: [{ publicKey: deployment.operatorPublicKey }] },
      log: { level, statsIntervalMs: 1000 },
      ...options.ingressExtra,
    });
    const ingress = await startApp('ingress', ingressFile);
    started.push(ingress);
    const ingressPort = Number(String(ingress.ready.listen).split(':').pop());
    const clientConfig = {
      ingress: { address: `${ADDR.ingress}:${ingressPort}`, servername: INGRESS_NAME, ca: deployment.caCert },
      localAddress: ADDR.client,
      directory: { file: deployment.directoryFile, operatorKeys: [{ publicKey: deployment.operatorPublicKey }] },
      socks: { listen: '127.0.0.1:0' },
      http: { listen: '127.0.0.1:0' },
      log: { level },
      ...options.clientExtra,
    };
    const client = await startApp('client', await deployment.writeConfig('client', clientConfig));
    started.push(client);
    const portOf = (url: unknown): number => Number(new URL(String(url)).port);
    return {
      deployment,
      egresses: started.filter((a) => a.name === 'egress'),
      ingress,
      client,
      ingressPort,
      socksPort: portOf(client.ready.socks),
      httpPort: portOf(client.ready.http),
      egressIds: egressSpecs.map((e) => e.id),
      clientConfig,
      async stop() {
        await Promise.all(started.map((a) => a.stop()));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(started.map((a) => a.stop()));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
