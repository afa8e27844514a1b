/**
 * One SplitRelay world on loopback for an end-to-end test: real egress, ingress and client
 * processes with their real configs, each role on its own address:
 *   client source 127.0.1.1 → ingress 127.0.2.1 → egress 127.0.3.x → targets 127.0.4.1
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import { openOuterTunnel } from '@splitrelay/outer-hop';
import {
  freePort,
  listenPort,
  signManifest,
  prepareDeployment,
  startApp,
  type Deployment,
  type RunningApp,
} from '@splitrelay/local-deployment';
import { controlPlaneLogin } from '@splitrelay/nats-kit';
import { signIngressCert } from '@splitrelay/control-plane';
import { keyIdOf } from '@splitrelay/directory';
import {
  captureLaunch,
  type Launch,
  dnsObserverLaunch,
  readCaptureFile,
  readLookups,
  type Capture,
} from '@splitrelay/capture';
import { eventually } from './eventually.ts';
import type { SocksProxy } from './socks-client.ts';
import { httpsTarget } from './targets.ts';

export const ADDR = {
  client: '127.0.1.1',
  ingress: '127.0.2.1',
  egress: (i: number) => `127.0.3.${i + 1}`,
  target: '127.0.4.1',
  issuer: '127.0.6.1',
} as const;

export const INGRESS_NAME = 'ingress.splitrelay.test';
export const TARGET_NAME = 'target.splitrelay.test';
export const ISSUER_NAME = 'issuer.splitrelay.test';

export interface WorldOptions {
  readonly egresses?: number;
  /** Egress allowlist; the targets' range by default (loopback is otherwise refused). */
  readonly allowCidrs?: readonly string[];
  readonly egressExtra?: Record<string, unknown>;
  readonly ingressExtra?: Record<string, unknown>;
  /** Extra node flags and environment of one egress process (e.g. a test preload). */
  readonly egressProcess?: (
    egressId: string,
  ) => { readonly nodeArgs?: readonly string[]; readonly env?: NodeJS.ProcessEnv } | undefined;
  readonly clientExtra?: Record<string, unknown>;
  /** How the client app carries its outer hop (HTTP/1.1 CONNECT by default). */
  readonly clientCarrier?: 'connect' | 'websocket';
  readonly logLevel?: string;
  /** Record what the ingress, the egresses and the issuer learn (`@splitrelay/capture`). */
  readonly capture?: boolean;
  /** Record every name lookup the client app makes (`@splitrelay/capture`). */
  readonly observeClientDns?: boolean;
  /**
   * Run with the NATS control plane at these servers (see @splitrelay/nats-kit): the
   * directory reaches the ingress over NATS, the client fetches it from the ingress.
   */
  readonly natsServers?: readonly string[];
  readonly heartbeatMs?: number;
  /**
   * With `natsServers`: an ingress operator key signs the ingress's trunk certificate, the
   * ingress announces it (`splitrelay.trunk.ingress-cert`), the egresses trust that key and
   * subscribe, so every crossing family of the control plane carries traffic.
   */
  readonly announceTrunkCert?: boolean;
  /** Extra keys of the egresses' and the ingress's controlPlane blocks. */
  readonly egressControlPlane?: Record<string, unknown>;
  readonly ingressControlPlane?: Record<string, unknown>;
  /**
   * Privacy Pass on: an issuer app on 127.0.6.1, the ingress asking for a token per session,
   * the client fetching them. With `natsServers`, the issuer announces its key over NATS and
   * spent tokens go to the ingress account's KV bucket.
   */
  readonly privacyPass?: boolean;
  /**
   * Every relay runs with a signed operator manifest (made by its sign-manifest tool from its
   * own config, with its operator's key) and an operator endpoint serving it; egresses also
   * serve their geofeed there, and their directory entries name both URLs and `serves`.
   */
  readonly manifests?: boolean;
  /** Extra keys of the ingress's `admission` block (merged, unlike `ingressExtra`). */
  readonly ingressAdmission?: Record<string, unknown>;
  readonly issuerExtra?: Record<string, unknown>;
  /** Extra keys of the client's `tokens` block. */
  readonly clientTokens?: Record<string, unknown>;
  /** Run the client app as shipped: this bundle (apps/client/src/bundle.ts) instead of src/. */
  readonly clientMain?: string;
  /**
   * Oblivious HTTP on: a gateway key ring per egress (x25519, or the KEMs named) published in
   * the signed entries, the relay at the ingress, and the client's loopback OHTTP endpoint and
   * DNS forwarder. `dohUpstream` (host:port) is the egresses' resolver for DoH.
   */
  readonly ohttp?: boolean | { readonly kems?: readonly ('x25519' | 'x-wing')[] };
  readonly dohUpstream?: string;
  /** Extra keys of the egresses' and the ingress's `ohttp` blocks. */
  readonly egressOhttp?: Record<string, unknown>;
  readonly ingressOhttp?: Record<string, unknown>;
  /** Runs once the PKI and the directory exist, before any relay starts. */
  readonly beforeStart?: (deployment: Deployment) => void | Promise<void>;
}

export interface World {
  readonly deployment: Deployment;
  readonly egresses: RunningApp[];
  readonly ingress: RunningApp;
  readonly client: RunningApp;
  /** The Privacy Pass issuer (with `privacyPass`). */
  readonly issuer: RunningApp | undefined;
  readonly issuerUrl: string | undefined;
  /** The ingress's config object (tests start more instances from it). */
  readonly ingressConfig: Record<string, unknown>;
  readonly ingressPort: number;
  /** The ingress's operator health endpoint (GET). */
  readonly ingressHealthUrl: string;
  /** The client app's SOCKS5 proxy (for `socksRequest`). */
  readonly socks: SocksProxy;
  /** Each egress's operator endpoint (health, geofeed, manifest), by id. */
  readonly egressEndpoints: Readonly<Record<string, string>>;
  readonly socksPort: number;
  readonly httpPort: number;
  /** The client's loopback OHTTP endpoint and DNS forwarder (with `ohttp`). */
  readonly ohttpPort: number | undefined;
  readonly dnsPort: number | undefined;
  readonly egressIds: string[];
  /** Config object the client was started with (tests start more clients from it). */
  readonly clientConfig: Record<string, unknown>;
  /** Stops every process; the folder (captures, configs) stays until `cleanup`. */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
  /**
   * What a captured process learned: `ingress`, `egress-<id>` (e.g. `egress-egress-1`),
   * `issuer`. Read after `stop` for the whole run (before, it holds what was flushed so far).
   */
  capture(name: string): Promise<Capture>;
  /** Names the client app looked up (after `stop`; needs `observeClientDns`). */
  clientLookups(): Promise<string[]>;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'splitrelay-e2e-'));
  const count = options.egresses ?? 1;
  const addresses = options.egressExtra?.addresses as
    { regions?: { country: string; subdivision?: string }[] } | undefined;
  const serves = addresses?.regions
    ? [
        ...new Set(
          addresses.regions.flatMap((r) => [r.country, ...(r.subdivision ? [r.subdivision] : [])]),
        ),
      ].sort()
    : undefined;
  const egressSpecs = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const host = ADDR.egress(i);
      const endpoint = options.manifests ? `http://${host}:${await freePort(host)}` : undefined;
      return {
        id: `egress-${i + 1}`,
        host,
        port: await freePort(host),
        region: i % 2 === 0 ? 'eu' : 'us',
        endpoint,
        ...(endpoint && serves ? { serves, geofeed: `${endpoint}/geofeed.csv` } : {}),
        ...(endpoint && serves ? { manifest: `${endpoint}/.well-known/splitrelay/manifest` } : {}),
      };
    }),
  );
  const deployment = await prepareDeployment({
    dir,
    ingressHost: ADDR.ingress,
    ingressName: INGRESS_NAME,
    egresses: egressSpecs,
    targetHosts: [ADDR.target],
    targetName: TARGET_NAME,
    // The targets' range: a test may put a target on any 127.0.4.x (loopback is otherwise refused).
    targetCidrs: ['127.0.4.0/24'],
    clientHost: ADDR.client,
    ...(options.privacyPass ? { issuer: { host: ADDR.issuer, name: ISSUER_NAME } } : {}),
    ...(options.ohttp ? { ohttp: typeof options.ohttp === 'object' ? options.ohttp : {} } : {}),
  });
  const { configs } = deployment;
  const level = options.logLevel ?? 'debug';
  const nats = options.natsServers;
  const heartbeatMs = options.heartbeatMs ?? 500;
  const captureOptions = (name: string): Launch =>
    options.capture ? captureLaunch(join(dir, `${name}.capture`)) : { nodeArgs: [], env: {} };
  const started: RunningApp[] = [];
  try {
    await options.beforeStart?.(deployment);
    const announced = nats && options.announceTrunkCert ? await announceTrunkCert(deployment) : {};
    for (const e of egressSpecs) {
      const file = await deployment.writeConfig(`egress-${e.id}`, {
        ...configs.egress(e.id, {
          ...(options.allowCidrs ? { policy: { allowCidrs: options.allowCidrs } } : {}),
          log: { level, statsIntervalMs: 1000, flows: false },
          // The gateway's key ring and CA come from the deployment; the resolver from the test.
          ...(options.ohttp
            ? {
                ohttp: {
                  ...(options.dohUpstream ? { doh: { upstream: options.dohUpstream } } : {}),
                  ...options.egressOhttp,
                },
              }
            : {}),
          ...(e.endpoint
            ? {
                health: { listen: e.endpoint.slice('http://'.length) },
                ...(addresses
                  ? {
                      manifest: manifestBlock(
                        deployment,
                        join(dir, `manifest-${e.id}.json`),
                        'egress',
                      ),
                    }
                  : {}),
              }
            : {}),
          ...(nats
            ? {
                controlPlane: {
                  ...controlPlaneLogin('egress', nats),
                  heartbeatMs,
                  announceMs: 1000,
                  ...announced.egress,
                  ...options.egressControlPlane,
                },
              }
            : {}),
        }),
        ...options.egressExtra,
      });
      if (e.endpoint && addresses) signManifest('egress', file, deployment.operatorKey);
      const capture = captureOptions(`egress-${e.id}`);
      const extra = options.egressProcess?.(e.id);
      started.push(
        await startApp('egress', file, {
          nodeArgs: [...(capture.nodeArgs ?? []), ...(extra?.nodeArgs ?? [])],
          env: { ...capture.env, ...extra?.env },
        }),
      );
    }
    const material = deployment.issuer;
    let issuer: RunningApp | undefined;
    let issuerUrl: string | undefined;
    if (material) {
      const file = await deployment.writeConfig('issuer', {
        ...configs.issuer({
          limits: { tokensPerSubscriberPerHour: 100_000, maxRequestBytes: 65_536, maxBatch: 64 },
          log: { level, statsIntervalMs: 1000 },
          ...(nats
            ? {
                controlPlane: {
                  ...controlPlaneLogin('issuer', nats),
                  issuerId: 'issuer-1',
                  announceMs: 1000,
                },
              }
            : {}),
        }),
        ...options.issuerExtra,
      });
      issuer = await startApp('issuer', file, captureOptions('issuer'));
      started.push(issuer);
      issuerUrl = `https://${ADDR.issuer}:${listenPort(issuer)}`;
    }
    const ingressHealthPort = await freePort(ADDR.ingress);
    const built = configs.ingress({
      // Over NATS the directory and the issuer's key arrive on the control plane.
      ...(nats ? { directory: { file: undefined } } : {}),
      log: { level, statsIntervalMs: 1000 },
      health: { listen: `${ADDR.ingress}:${ingressHealthPort}` },
      admission: {
        // Tests open sessions far faster than a person would; the limit has its own tests.
        rateLimit: { sessionsPerSecond: 10_000, burst: 10_000 },
        ...(nats && material ? { privacyPass: { keys: [] } } : {}),
      },
      ...(options.ohttp
        ? {
            ohttp: {
              // As for sessions: tests send far faster than a person; the limit has its own tests.
              rateLimit: { requestsPerSecond: 10_000, burst: 10_000 },
              ...options.ingressOhttp,
            },
          }
        : {}),
      ...(nats
        ? {
            controlPlane: {
              ...controlPlaneLogin('ingress', nats),
              heartbeatMs,
              ...announced.ingress,
              ...options.ingressControlPlane,
            },
          }
        : {}),
    });
    const ingressConfig = {
      ...built,
      admission: { ...(built.admission as object), ...options.ingressAdmission },
      ...(options.manifests
        ? {
            manifest: {
              ...manifestBlock(deployment, join(dir, 'manifest-ingress.json'), 'ingress'),
              ...(nats ? {} : { ingressId: 'ingress-1' }),
            },
          }
        : {}),
      ...options.ingressExtra,
    };
    const ingressFile = await deployment.writeConfig('ingress', ingressConfig);
    if (options.manifests) signManifest('ingress', ingressFile, deployment.ingressOperatorKey);
    const ingress = await startApp('ingress', ingressFile, captureOptions('ingress'));
    started.push(ingress);
    const ingressPort = listenPort(ingress);
    if (nats)
      await untilIngressKnows(
        ingressHealthPort,
        egressSpecs.map((e) => e.id),
        Boolean(material),
      );
    const clientConfig = {
      ...configs.client(
        { ingressPort, ...(issuerUrl ? { issuerUrl } : {}) },
        {
          // Over NATS the client fetches the signed directory from the ingress.
          ...(nats ? { directory: { file: undefined, refreshMs: 1000 } } : {}),
          ...(options.clientCarrier ? { ingress: { carrier: options.clientCarrier } } : {}),
          socks: { listen: '127.0.0.1:0' },
          http: { listen: '127.0.0.1:0' },
          ...(options.ohttp
            ? { ohttp: { listen: '127.0.0.1:0' }, dns: { listen: '127.0.0.1:0' } }
            : {}),
          log: { level },
          ...(issuerUrl && options.clientTokens ? { tokens: options.clientTokens } : {}),
        },
      ),
      ...options.clientExtra,
    };
    const client = await startApp('client', await deployment.writeConfig('client', clientConfig), {
      ...(options.clientMain ? { main: options.clientMain } : {}),
      ...(options.observeClientDns ? dnsObserverLaunch(join(dir, 'client-dns.json')) : {}),
    });
    started.push(client);
    const socks = new URL(String(client.ready.socks));
    return {
      deployment,
      egresses: started.filter((a) => a.name === 'egress'),
      ingress,
      client,
      issuer,
      issuerUrl,
      ingressConfig,
      ingressPort,
      ingressHealthUrl: `http://${ADDR.ingress}:${ingressHealthPort}/health`,
      socks: { host: socks.hostname, port: Number(socks.port) },
      egressEndpoints: Object.fromEntries(
        egressSpecs.flatMap((e) => (e.endpoint ? [[e.id, e.endpoint]] : [])),
      ),
      socksPort: Number(socks.port),
      httpPort: Number(new URL(String(client.ready.http)).port),
      ohttpPort:
        client.ready.ohttp === undefined
          ? undefined
          : Number(new URL(String(client.ready.ohttp)).port),
      dnsPort:
        client.ready.dns === undefined
          ? undefined
          : Number(String(client.ready.dns).split(':').pop()),
      egressIds: egressSpecs.map((e) => e.id),
      clientConfig,
      async stop() {
        await Promise.all(started.map((a) => a.stop()));
      },
      cleanup: () => rm(dir, { recursive: true, force: true }),
      capture: (name) => readCaptureFile(join(dir, `${name}.capture`)),
      clientLookups: () => readLookups(join(dir, 'client-dns.json')),
    };
  } catch (err) {
    await Promise.all(started.map((a) => a.stop()));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The ingress operator's side of trunk admission, as `sign-trunk-cert` does it: its own key
 * signs the ingress's trunk certificate; the ingress publishes the announcement, egresses
 * trust the key.
 */
async function announceTrunkCert(deployment: Deployment): Promise<{
  ingress?: Record<string, unknown>;
  egress?: Record<string, unknown>;
}> {
  // The deployment's own ingress operator key: the one its manifests are signed with too.
  const privateKey = createPrivateKey(await readFile(deployment.ingressOperatorKey, 'utf8'));
  const publicKey = deployment.ingressOperatorPublicKey;
  const kid = keyIdOf(await readFile(publicKey, 'utf8'));
  const announcement = join(deployment.dir, 'trunk-cert.json');
  const now = Math.floor(Date.now() / 1000);
  const signed = signIngressCert(
    {
      v: 1,
      id: 'ingress-1',
      certPem: new X509Certificate(await readFile(deployment.ingress.trunkCert)).toString(),
      notBefore: now - 60,
      notAfter: now + 86_400,
      version: now,
    },
    privateKey,
    kid,
  );
  await writeFile(announcement, JSON.stringify(signed));
  return {
    ingress: { trunkCertAnnouncement: announcement },
    egress: { ingressOperatorKeys: [{ publicKey }] },
  };
}

/** With a control plane, the ingress learns the egresses over NATS: wait until it has. */
export async function untilIngressKnows(
  healthPort: number,
  ids: readonly string[],
  tokenKeys = false,
  host: string = ADDR.ingress,
): Promise<void> {
  await eventually(
    `the ingress to learn ${ids.join(', ')} over NATS`,
    async () => {
      const res = await fetch(`http://${host}:${healthPort}/health`).catch(() => undefined);
      const health = ((await res?.json().catch(() => undefined)) ?? {}) as {
        egresses?: Record<string, string>;
        tokenKeys?: unknown[];
      };
      return (
        ids.every((id) => health.egresses?.[id] === 'up') &&
        (!tokenKeys || (health.tokenKeys?.length ?? 0) > 0)
      );
    },
    { timeoutMs: 15_000 },
  );
}

/**
 * A hand-made inner TLS session to egress-1 through the world's ingress, with the ALPN a test
 * asks for: what a hostile or unusual client could send the egress.
 */
export async function rawInnerTls(world: World, alpn: 'h2' | 'http/1.1'): Promise<tls.TLSSocket> {
  const carrier = await openOuterTunnel({
    ingress: {
      host: ADDR.ingress,
      port: world.ingressPort,
      servername: INGRESS_NAME,
      ca: await readFile(world.deployment.caCert, 'utf8'),
    },
    egressId: 'egress-1',
    handshakeTimeoutMs: 5000,
    localAddress: ADDR.client,
  });
  const socket = tls.connect({
    socket: carrier,
    servername: 'egress-1',
    ALPNProtocols: [alpn],
    rejectUnauthorized: false,
  });
  await once(socket, 'secureConnect');
  return socket;
}

/** The HTTPS target of a world, on its target address with the certificate the local CA gave it. */
export function worldHttpsTarget(world: World, body?: string, port = 0) {
  return httpsTarget(
    ADDR.target,
    world.deployment.target.cert,
    world.deployment.target.key,
    body,
    port,
  );
}

/** A relay config's manifest block: the file its sign-manifest tool writes, its operator's key. */
function manifestBlock(
  deployment: Deployment,
  file: string,
  role: 'egress' | 'ingress',
): Record<string, unknown> {
  return {
    file,
    operatorPublicKey:
      role === 'egress' ? deployment.operatorPublicKey : deployment.ingressOperatorPublicKey,
    retention: { logsDays: 7, metricsDays: 30 },
  };
}
