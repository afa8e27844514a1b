/**
 * The SplitRelay side of the bench world: a loopback deployment (PKI, signed directory,
 * configs) and the real egress and ingress apps, as the end-to-end tests build it
 * (tools/test-kit/src/world.ts), tuned for measuring: quiet logs and a raised open-files limit. Privacy
 * Pass is on, as deployed: every client session is paid for with a token from the issuer.
 */
import { fileURLToPath } from 'node:url';
import {
  freePort,
  ingressTokenKey,
  issuerBaseConfig,
  prepareDeployment,
  type Deployment,
} from '@splitrelay/local-deployment';
import { ADDR, EGRESS_ID, INGRESS_NAME, ISSUER_NAME, TARGET_NAME } from './addresses.ts';
import { startChild, type Child } from './child.ts';
import { CLIENT_BUNDLE } from '@splitrelay/client-app/bundle';

export type AppName = 'egress' | 'ingress' | 'client' | 'issuer';

export const GC_PRELOAD = fileURLToPath(new URL('./gc-preload.ts', import.meta.url));
// The client runs as shipped, bundled (main.ts builds it first); the relays from their sources.
const appMain = (name: AppName): string =>
  name === 'client'
    ? CLIENT_BUNDLE
    : fileURLToPath(new URL(`../../../apps/${name}/src/main.js`, import.meta.url));

/** Node flags of every relay the bench starts: a GC on SIGUSR2 for the memory figures. */
export const RELAY_NODE_ARGS = ['--expose-gc', '--import', GC_PRELOAD] as const;

/** Extra Node flags per app, e.g. `--cpu-prof` for the profiling run. */
export type NodeArgsFor = (name: AppName) => readonly string[];

export function startApp(
  name: AppName,
  configFile: string,
  fdLimit: number,
  nodeArgs: NodeArgsFor = () => [],
): Promise<Child> {
  return startChild(
    name,
    process.execPath,
    [...RELAY_NODE_ARGS, ...nodeArgs(name), appMain(name), '--config', configFile],
    { fdLimit },
  );
}

export interface Relays {
  readonly deployment: Deployment;
  readonly egress: Child;
  readonly ingress: Child;
  readonly ingressPort: number;
  /** The Privacy Pass issuer's origin: every client session costs one token, as deployed. */
  readonly issuerUrl: string;
  /** Client app config without its SOCKS listener (each client picks its own port). */
  clientConfig(socksPort: number): Record<string, unknown>;
  stop(): Promise<void>;
}

// 'info' is the quietest level that still prints the `ready` line.
const QUIET_LOG = { level: 'info', statsIntervalMs: 600_000 };

export async function prepareBenchDeployment(
  dir: string,
): Promise<{ deployment: Deployment; egressPort: number }> {
  const egressPort = await freePort(ADDR.egress);
  const deployment = await prepareDeployment({
    dir,
    ingressHost: ADDR.ingress,
    ingressName: INGRESS_NAME,
    egresses: [{ id: EGRESS_ID, host: ADDR.egress, port: egressPort, region: 'eu' }],
    targetHosts: [ADDR.target],
    targetName: TARGET_NAME,
    issuer: { host: ADDR.issuer, name: ISSUER_NAME },
  });
  return { deployment, egressPort };
}

export async function startRelays(
  deployment: Deployment,
  egressPort: number,
  fdLimit: number,
  nodeArgs?: NodeArgsFor,
): Promise<Relays> {
  const started: Child[] = [];
  try {
    const egressFile = await deployment.writeConfig('egress', {
      egressId: EGRESS_ID,
      listen: `${ADDR.egress}:${egressPort}`,
      tls: deployment.egress[EGRESS_ID],
      knownIngresses: [{ name: 'ingress-1', cert: deployment.ingress.trunkCert }],
      policy: { allowCidrs: ['127.0.4.0/24'] },
      dns: { hosts: { [TARGET_NAME]: [ADDR.target] } },
      localAddress: ADDR.egress,
      log: { ...QUIET_LOG, flows: false },
      // The memory phase holds 10,000 idle flows in one session; the default cap is 1,000.
      limits: { maxFlowsPerSession: 20_000 },
    });
    const egress = await startApp('egress', egressFile, fdLimit, nodeArgs);
    started.push(egress);
    const issuerMaterial = deployment.issuer!;
    const issuerFile = await deployment.writeConfig('issuer', {
      ...issuerBaseConfig(issuerMaterial),
      listen: `${ADDR.issuer}:0`,
      limits: { tokensPerSubscriberPerHour: 1_000_000, maxRequestBytes: 65_536, maxBatch: 64 },
      log: QUIET_LOG,
    });
    const issuer = await startApp('issuer', issuerFile, fdLimit, nodeArgs);
    started.push(issuer);
    const issuerUrl = `https://${ADDR.issuer}:${String(issuer.ready.listen).split(':').pop()}`;
    const ingressFile = await deployment.writeConfig('ingress', {
      listen: `${ADDR.ingress}:0`,
      tls: { cert: deployment.ingress.cert, key: deployment.ingress.key },
      trunk: {
        cert: deployment.ingress.trunkCert,
        key: deployment.ingress.trunkKey,
        localAddress: ADDR.ingress,
      },
      directory: {
        file: deployment.directoryFile,
        operatorKeys: [{ publicKey: deployment.operatorPublicKey }],
      },
      log: QUIET_LOG,
      admission: {
        // The bench opens sessions by the thousand from one address: no per-address limit.
        rateLimit: { sessionsPerSecond: 1_000_000, burst: 1_000_000 },
        privacyPass: {
          issuerName: ISSUER_NAME,
          origin: INGRESS_NAME,
          keys: [ingressTokenKey(issuerMaterial)],
        },
      },
    });
    const ingress = await startApp('ingress', ingressFile, fdLimit, nodeArgs);
    started.push(ingress);
    const ingressPort = Number(String(ingress.ready.listen).split(':').pop());
    return {
      deployment,
      egress,
      ingress,
      ingressPort,
      issuerUrl,
      clientConfig: (socksPort) => ({
        ingress: {
          address: `${ADDR.ingress}:${ingressPort}`,
          servername: INGRESS_NAME,
          ca: deployment.caCert,
        },
        localAddress: ADDR.client,
        directory: {
          file: deployment.directoryFile,
          operatorKeys: [{ publicKey: deployment.operatorPublicKey }],
        },
        socks: { listen: `${ADDR.socks}:${socksPort}` },
        tokens: {
          issuer: issuerUrl,
          ca: deployment.caCert,
          servername: ISSUER_NAME,
          credentialFile: issuerMaterial.credentialFile,
        },
        log: { level: 'info' },
      }),
      stop: async () => {
        await Promise.all(started.map((c) => c.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((c) => c.stop()));
    throw err;
  }
}
