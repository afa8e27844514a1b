/**
 * The SplitRelay side of the bench world: a loopback deployment (PKI, signed directory,
 * configs from `deployment.configs`, as the end-to-end tests and the demo build them) and the
 * real egress, issuer and ingress apps, tuned for measuring: quiet logs, a raised open-files
 * limit and a GC on SIGUSR2. Privacy Pass is on, as deployed: every client session is paid
 * for with a token from the issuer.
 */
import {
  freePort,
  listenPort,
  prepareDeployment,
  startApp as startDeploymentApp,
  type AppName,
  type Deployment,
  type RunningApp,
} from '@splitrelay/local-deployment';
import { CLIENT_BUNDLE } from '@splitrelay/client-app/bundle';
import { ADDR, EGRESS_ID, INGRESS_NAME, ISSUER_NAME, TARGET_NAME } from './addresses.ts';

/** Extra Node flags per app, e.g. `--cpu-prof` for the profiling run. */
export type NodeArgsFor = (name: AppName) => readonly string[];

/**
 * An app as the bench runs it: the client as shipped (bundled; main.ts builds it first), the
 * relays from their sources, every one with a GC on SIGUSR2 for the memory figures and only
 * its last lines kept (a long run logs its stats for minutes).
 */
export function startApp(
  name: AppName,
  configFile: string,
  fdLimit: number,
  nodeArgs: NodeArgsFor = () => [],
): Promise<RunningApp> {
  return startDeploymentApp(name, configFile, {
    fdLimit,
    gcOnSignal: true,
    keepLines: 200,
    timeoutMs: 20_000,
    nodeArgs: nodeArgs(name),
    ...(name === 'client' ? { main: CLIENT_BUNDLE } : {}),
  });
}

export interface Relays {
  readonly deployment: Deployment;
  readonly egress: RunningApp;
  readonly ingress: RunningApp;
  readonly ingressPort: number;
  /** The Privacy Pass issuer's origin: every client session costs one token, as deployed. */
  readonly issuerUrl: string;
  /** Client app config with its SOCKS listener on `socksPort` (each client picks its own). */
  clientConfig(socksPort: number): Record<string, unknown>;
  stop(): Promise<void>;
}

// 'info' is the quietest level that still prints the `ready` line.
const QUIET_LOG = { level: 'info', statsIntervalMs: 600_000 };

export async function prepareBenchDeployment(dir: string): Promise<Deployment> {
  return prepareDeployment({
    dir,
    ingressHost: ADDR.ingress,
    ingressName: INGRESS_NAME,
    egresses: [
      { id: EGRESS_ID, host: ADDR.egress, port: await freePort(ADDR.egress), region: 'eu' },
    ],
    targetHosts: [ADDR.target],
    targetName: TARGET_NAME,
    targetCidrs: ['127.0.4.0/24'],
    clientHost: ADDR.client,
    issuer: { host: ADDR.issuer, name: ISSUER_NAME },
  });
}

export async function startRelays(
  deployment: Deployment,
  fdLimit: number,
  nodeArgs?: NodeArgsFor,
): Promise<Relays> {
  const { configs } = deployment;
  const started: RunningApp[] = [];
  const start = async (name: AppName, config: Record<string, unknown>): Promise<RunningApp> => {
    const app = await startApp(name, await deployment.writeConfig(name, config), fdLimit, nodeArgs);
    started.push(app);
    return app;
  };
  try {
    const egress = await start(
      'egress',
      configs.egress(EGRESS_ID, {
        log: { ...QUIET_LOG, flows: false },
        // The memory phase holds 10,000 idle flows in one session; the default cap is 1,000.
        limits: { maxFlowsPerSession: 20_000 },
      }),
    );
    const issuer = await start(
      'issuer',
      configs.issuer({
        limits: { tokensPerSubscriberPerHour: 1_000_000, maxRequestBytes: 65_536, maxBatch: 64 },
        log: QUIET_LOG,
      }),
    );
    const issuerUrl = `https://${ADDR.issuer}:${listenPort(issuer)}`;
    const ingress = await start(
      'ingress',
      configs.ingress({
        log: QUIET_LOG,
        // The bench opens sessions by the thousand from one address: no per-address limit.
        admission: { rateLimit: { sessionsPerSecond: 1_000_000, burst: 1_000_000 } },
      }),
    );
    const ingressPort = listenPort(ingress);
    return {
      deployment,
      egress,
      ingress,
      ingressPort,
      issuerUrl,
      clientConfig: (socksPort) =>
        configs.client(
          { ingressPort, issuerUrl },
          { socks: { listen: `${ADDR.socks}:${socksPort}` }, log: { level: 'info' } },
        ),
      stop: async () => {
        await Promise.all(started.map((c) => c.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((c) => c.stop()));
    throw err;
  }
}
