#!/usr/bin/env node
/**
 * The demo: a whole SplitRelay on this machine, one loopback address per role. It makes a
 * local CA and certificates if absent, starts NATS, two egresses in two regions (each with
 * its source address pools, geofeed and signed manifest), the Privacy Pass issuer, ingress
 * and client proxies (the client fetching tokens from the issuer and sharing its general
 * location with the egress only), fetches the demo page through both relays, shows what each
 * relay saw, prints `READY <json>`, and stays up until Ctrl-C. Each egress is also an
 * Oblivious HTTP gateway (with DoH to its own resolver), the ingress their relay, and the
 * client offers both on loopback.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProxyAgent, fetch } from 'undici';
import {
  prepareDeployment,
  signManifest,
  startApp,
  type Deployment,
  type RunningApp,
} from '@splitrelay/local-deployment';
import { controlPlaneLogin, startNats, type NatsServer } from '@splitrelay/nats-kit';
import { eventually } from '@splitrelay/test-kit/eventually';
import { OHTTP_KEYS_PREFIX, OHTTP_RELAY_PREFIX } from '@splitrelay/directory';
import { DEMO, DEMO_LOCATION, DEMO_POOLS, extraAllowedTargets } from './layout.ts';
import { startDemoTarget } from './target.ts';
import { startDemoResolver } from './resolver.ts';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const dir = process.env.SPLITRELAY_DEMO_DIR ?? join(root, '.demo');
const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** The ingress learns the egresses over NATS; the demo waits until it has. */
async function waitForEgress(healthUrl: string): Promise<void> {
  await eventually(
    'the ingress to learn the egresses and the issuer key over NATS',
    async () => {
      const res = await fetch(healthUrl).catch(() => undefined);
      const health = ((await res?.json().catch(() => ({}))) ?? {}) as {
        egresses?: Record<string, string>;
        tokenKeys?: unknown[];
      };
      const up = [DEMO.egress.id, DEMO.egressUs.id].every((id) => health.egresses?.[id] === 'up');
      return up && (health.tokenKeys?.length ?? 0) > 0;
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
}

const NONLOCAL_BIND = '/proc/sys/net/ipv6/ip_nonlocal_bind';
/** What bindIpv6Pool changed, so the demo puts it back on the way out. */
let restoreNonlocalBind: string | undefined;

/**
 * Binds the IPv6 pool as AnyIP on lo and lets IPv6 sockets bind its addresses (Linux's IPv6
 * bind() accepts only assigned addresses unless net.ipv6.ip_nonlocal_bind is 1), for the
 * demo's lifetime. Both take root; without it, or with SPLITRELAY_DEMO_IPV6=0, the demo runs
 * IPv4 pools only and says so. `replace`, so a route left by a killed run is taken over.
 */
function bindIpv6Pool(): boolean {
  if (process.env.SPLITRELAY_DEMO_IPV6 === '0') {
    say('ipv6     skipped (SPLITRELAY_DEMO_IPV6=0): IPv4 pools only');
    return false;
  }
  if (process.getuid?.() !== 0) {
    say(`ipv6     skipped: binding ${DEMO_POOLS.ipv6} as AnyIP needs root (IPv4 pools only)`);
    return false;
  }
  try {
    const before = readFileSync(NONLOCAL_BIND, 'utf8').trim();
    execFileSync('ip', ['-6', 'route', 'replace', 'local', DEMO_POOLS.ipv6, 'dev', 'lo'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (before !== '1') {
      writeFileSync(NONLOCAL_BIND, '1\n');
      restoreNonlocalBind = before;
    }
    say(
      `ipv6     ${DEMO_POOLS.ipv6} bound on lo as AnyIP, net.ipv6.ip_nonlocal_bind=1 until the demo stops`,
    );
    return true;
  } catch (err) {
    unbindIpv6Pool();
    say(
      `ipv6     skipped: cannot bind ${DEMO_POOLS.ipv6} (${(err as Error).message.split('\n')[0]})`,
    );
    return false;
  }
}

function unbindIpv6Pool(): void {
  try {
    execFileSync('ip', ['-6', 'route', 'del', 'local', DEMO_POOLS.ipv6, 'dev', 'lo'], {
      stdio: 'ignore',
    });
  } catch {
    // Already gone.
  }
  if (restoreNonlocalBind !== undefined) {
    writeFileSync(NONLOCAL_BIND, `${restoreNonlocalBind}\n`);
    restoreNonlocalBind = undefined;
  }
}

type DemoEgress = typeof DEMO.egress | typeof DEMO.egressUs;

/** Where an egress's pools geolocate to, as its directory entry states them. */
function servedBy(pools: (typeof DEMO_POOLS)['eu' | 'us']): string[] {
  const codes = pools.regions.flatMap((r) => [
    r.country,
    ...('subdivision' in r ? [r.subdivision] : []),
  ]);
  return [...new Set(codes)].sort();
}

/** One egress's config: its pools, its operator endpoint, its signed manifest. */
async function egressConfig(
  deployment: Deployment,
  egress: DemoEgress,
  addresses: unknown,
  allow: readonly string[],
  natsUrl: string,
): Promise<string> {
  const file = await deployment.writeConfig(
    egress.id,
    deployment.configs.egress(egress.id, {
      policy: { allowCidrs: [...allow] },
      // The demo name is the IPv4 target's (the IPv6 one is reached by address).
      dns: { hosts: { [DEMO.target.name]: [DEMO.target.host] } },
      // Pools, not one source address: each session draws its own.
      localAddress: undefined,
      addresses,
      log: { level: 'info', statsIntervalMs: 5000, flows: false },
      // The Oblivious HTTP gateway (key ring and CA from the deployment), under the same
      // allowlist; DoH goes to the egress's own resolver.
      ohttp: { doh: { upstream: `${DEMO.resolver.host}:${DEMO.resolver.port}` } },
      health: { listen: `${egress.host}:${egress.healthPort}` },
      manifest: {
        file: join(dir, `manifest-${egress.id}.json`),
        operatorPublicKey: deployment.operatorPublicKey,
        retention: { logsDays: 7, metricsDays: 30 },
      },
      controlPlane: {
        ...controlPlaneLogin('egress', [natsUrl]),
        heartbeatMs: 1000,
        announceMs: 2000,
      },
    }),
  );
  // As the CDN's operator would: the manifest is signed from the very config that runs.
  signManifest('egress', file, deployment.operatorKey);
  return file;
}

async function main(): Promise<void> {
  say(`SplitRelay demo: state in ${dir}`);
  await mkdir(join(dir, 'logs'), { recursive: true });
  const ipv6 = bindIpv6Pool();
  const pools = {
    eu: ipv6
      ? {
          ...DEMO_POOLS.eu,
          regions: DEMO_POOLS.eu.regions.map((r) =>
            r.id === 'de-munich' ? { ...r, ipv6: [DEMO_POOLS.ipv6] } : r,
          ),
        }
      : DEMO_POOLS.eu,
    us: DEMO_POOLS.us,
  };
  const endpoint = (e: DemoEgress): string => `http://${e.host}:${e.healthPort}`;
  const allow = ['127.0.4.0/24', ...(ipv6 ? ['::1/128'] : []), ...extraAllowedTargets(process.env)];
  const deployment = await prepareDeployment({
    dir,
    ingressHost: DEMO.ingress.host,
    ingressPort: DEMO.ingress.port,
    ingressName: DEMO.ingress.name,
    ingressId: 'demo-ingress',
    egresses: [
      { ...DEMO.egress, serves: servedBy(DEMO_POOLS.eu) },
      { ...DEMO.egressUs, serves: servedBy(DEMO_POOLS.us) },
    ].map((e) => ({
      ...e,
      geofeed: `${endpoint(e)}/geofeed.csv`,
      manifest: `${endpoint(e)}/.well-known/splitrelay/manifest`,
    })),
    targetHosts: ipv6 ? [DEMO.target.host, '::1'] : [DEMO.target.host],
    targetName: DEMO.target.name,
    targetCidrs: allow,
    clientHost: DEMO.clientSource,
    issuer: { host: DEMO.issuer.host, name: DEMO.issuer.name, port: DEMO.issuer.port },
    // A gateway key ring per egress, its keys in the signed entry; the ingress relays.
    ohttp: {},
  });
  const issuerMaterial = deployment.issuer!;
  const { configs } = deployment;
  const logs = {
    ingress: join(dir, 'logs', 'ingress.log'),
    egress: join(dir, 'logs', 'egress.log'),
    egressUs: join(dir, 'logs', 'egress-us.log'),
    client: join(dir, 'logs', 'client.log'),
    issuer: join(dir, 'logs', 'issuer.log'),
  };

  say(`egress allowlist: ${allow.join(', ')} (everything else private or loopback is refused)`);

  const apps: RunningApp[] = [];
  const target = await startDemoTarget(
    DEMO.target.host,
    DEMO.target.port,
    deployment.target.cert,
    deployment.target.key,
  );
  const target6 = ipv6
    ? await startDemoTarget('::1', DEMO.target.port, deployment.target.cert, deployment.target.key)
    : undefined;
  const resolver = await startDemoResolver(DEMO.resolver.host, DEMO.resolver.port, {
    [DEMO.target.name]: DEMO.target.host,
  });
  let nats: NatsServer | undefined;
  const stopAll = async (): Promise<void> => {
    await Promise.all(apps.map((a) => a.stop()));
    await nats?.stop();
    await new Promise<void>((r) => target.close(() => r()));
    if (target6) await new Promise<void>((r) => target6.close(() => r()));
    await new Promise<void>((r) => resolver.close(() => r()));
    if (ipv6) unbindIpv6Pool();
  };
  try {
    // The control plane: Debian's nats-server with deploy/nats's accounts (and the kit's
    // local demo passwords). The directory and health travel over it, never a flow.
    nats = await startNats({
      host: DEMO.nats.host,
      port: DEMO.nats.port,
      storeDir: join(dir, 'nats'),
      serverName: 'demo',
    });
    say(`nats     ${nats.url}  (control plane: signed directory and health, no per-flow data)`);
    const egresses: [DemoEgress, unknown, string][] = [
      [DEMO.egress, pools.eu, logs.egress],
      [DEMO.egressUs, pools.us, logs.egressUs],
    ];
    for (const [egress, addresses, logFile] of egresses) {
      const file = await egressConfig(deployment, egress, addresses, allow, nats.url);
      apps.push(await startApp('egress', file, { logFile }));
      say(
        `egress   ${egress.host}:${egress.port}  region ${egress.region}, pools ${describePools(addresses)}  (sees the ingress and the targets, never you)`,
      );
      say(
        `         geofeed ${endpoint(egress)}/geofeed.csv, signed manifest ${endpoint(egress)}/.well-known/splitrelay/manifest`,
      );
    }

    const issuerConfig = await deployment.writeConfig(
      'issuer',
      configs.issuer({
        limits: { tokensPerSubscriberPerHour: 2000, maxRequestBytes: 16_384, maxBatch: 32 },
        log: { level: 'info', statsIntervalMs: 5000 },
        controlPlane: {
          ...controlPlaneLogin('issuer', [nats.url]),
          issuerId: 'demo-issuer',
          announceMs: 2000,
        },
      }),
    );
    apps.push(await startApp('issuer', issuerConfig, { logFile: logs.issuer }));
    say(
      `issuer   ${DEMO.issuer.host}:${DEMO.issuer.port}  (sees your subscription when you fetch tokens, never where you spend them)`,
    );

    const ingressConfig = await deployment.writeConfig(
      'ingress',
      configs.ingress({
        // The directory and the issuer's key arrive over NATS.
        directory: { file: undefined },
        log: { level: 'info', statsIntervalMs: 5000 },
        health: { listen: `${DEMO.ingress.host}:${DEMO.ingress.healthPort}` },
        controlPlane: { ...controlPlaneLogin('ingress', [nats.url]), heartbeatMs: 1000 },
        // One Privacy Pass token per session.
        admission: { privacyPass: { keys: [] } },
        // The Oblivious HTTP relay: one token pays for 100 requests on a connection.
        ohttp: { requestsPerToken: 100 },
        // The access network's own promises, signed with its own operator key.
        manifest: {
          file: join(dir, 'manifest-ingress.json'),
          operatorPublicKey: deployment.ingressOperatorPublicKey,
          retention: { logsDays: 7, metricsDays: 30 },
        },
      }),
    );
    signManifest('ingress', ingressConfig, deployment.ingressOperatorKey);
    apps.push(await startApp('ingress', ingressConfig, { logFile: logs.ingress }));
    say(
      `ingress  ${DEMO.ingress.host}:${DEMO.ingress.port}  (sees you and which egress, never the target)`,
    );
    await waitForEgress(`http://${DEMO.ingress.host}:${DEMO.ingress.healthPort}/health`);

    const clientConfig = await deployment.writeConfig(
      'client',
      configs.client(
        {
          ingressPort: DEMO.ingress.port,
          issuerUrl: `https://${DEMO.issuer.host}:${DEMO.issuer.port}`,
        },
        {
          // No directory file: the client fetches the signed directory from the ingress and
          // verifies it against the egress operator's key itself.
          directory: { file: undefined },
          socks: { listen: DEMO.socks },
          http: { listen: DEMO.http },
          ohttp: { listen: DEMO.ohttp },
          dns: { listen: DEMO.dns },
          // Sent to the egress only, inside the end-to-end encrypted session.
          location: DEMO_LOCATION,
          log: { level: 'info' },
        },
      ),
    );
    const client = await startApp('client', clientConfig, { logFile: logs.client });
    apps.push(client);
    say(
      `client   SOCKS5 ${String(client.ready.socks)}  HTTP ${String(client.ready.http)}  (connects from ${DEMO.clientSource})`,
    );

    const url = `https://${DEMO.target.name}:${DEMO.target.port}/`;
    const ca = await readFile(deployment.caCert, 'utf8');
    const res = await fetch(url, {
      dispatcher: new ProxyAgent({ uri: `http://${DEMO.http}`, requestTls: { ca } }),
    });
    const page = await res.text();
    say('');
    say(`fetched ${url} through both relays: HTTP ${res.status}`);
    const peer = res.headers.get('x-seen-peer') ?? '?';
    say(
      `  the target saw the request come from ${peer}: drawn at random for this session from the pool of ${regionOf(peer)} (your location setting: general location, near München)`,
    );
    if (target6) {
      const url6 = `https://[::1]:${DEMO.target.port}/`;
      const res6 = await fetch(url6, {
        dispatcher: new ProxyAgent({ uri: `http://${DEMO.http}`, requestTls: { ca } }),
      });
      await res6.text();
      say(
        `  over IPv6 (${url6}) it saw ${res6.headers.get('x-seen-peer') ?? '?'}: from the same region's IPv6 pool`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
    const ingressLog = await readFile(logs.ingress, 'utf8');
    const egressLog = await readFile(logs.egress, 'utf8');
    say(
      `  ingress log mentions the target (${DEMO.target.name} / ${DEMO.target.host}): ${ingressLog.includes(DEMO.target.name) || ingressLog.includes(DEMO.target.host) ? 'YES (bug!)' : 'no'}`,
    );
    say(
      `  ingress log mentions your subscriber credential: ${ingressLog.includes(issuerMaterial.credential) ? 'YES (bug!)' : 'no'}`,
    );
    say(
      `  egress log mentions your address (${DEMO.clientSource}): ${egressLog.includes(DEMO.clientSource) ? 'YES (bug!)' : 'no'}`,
    );
    say(
      `  page: ${page
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()}`,
    );
    // The same page as Oblivious HTTP: the gateway fetches it, the relay sees only ciphertext.
    const oblivious = await fetch(`http://${DEMO.ohttp}/${url}`);
    await oblivious.arrayBuffer();
    say(
      `fetched ${url} as Oblivious HTTP (relay at the ingress, gateway at the egress): HTTP ${oblivious.status}`,
    );
    const obliviousPeer = oblivious.headers.get('x-seen-peer') ?? '?';
    say(
      `  the target saw it come from ${obliviousPeer}: drawn afresh for this target connection from ${regionOf(obliviousPeer)}, the default region (a gateway request carries no location)`,
    );
    say('');
    say(`try: curl --cacert ${deployment.caCert} --proxy socks5h://${DEMO.socks} ${url}`);
    say(`     curl http://${DEMO.ohttp}/${url}      (Oblivious HTTP)`);
    say(
      `     dig @${DEMO.dns.split(':')[0]} -p ${DEMO.dns.split(':')[1]} ${DEMO.target.name}   (DNS over Oblivious HTTP)`,
    );
    say('Ctrl-C stops everything.');
    say(
      `READY ${JSON.stringify({
        socks: `socks5h://${DEMO.socks}`,
        http: `http://${DEMO.http}`,
        ingress: `${DEMO.ingress.host}:${DEMO.ingress.port}`,
        egress: `${DEMO.egress.host}:${DEMO.egress.port}`,
        egresses: {
          [DEMO.egress.id]: { region: DEMO.egress.region, endpoint: endpoint(DEMO.egress) },
          [DEMO.egressUs.id]: { region: DEMO.egressUs.region, endpoint: endpoint(DEMO.egressUs) },
        },
        ipv6,
        nats: nats.url,
        issuer: `https://${DEMO.issuer.host}:${DEMO.issuer.port}`,
        target: url,
        ca: deployment.caCert,
        ohttp: `http://${DEMO.ohttp}`,
        ohttpRelay: `https://${DEMO.ingress.host}:${DEMO.ingress.port}${OHTTP_RELAY_PREFIX}${DEMO.egress.id}`,
        ohttpKeys: `https://${DEMO.ingress.host}:${DEMO.ingress.port}${OHTTP_KEYS_PREFIX}${DEMO.egress.id}`,
        dns: DEMO.dns,
        logs,
      })}`,
    );
  } catch (err) {
    await stopAll();
    throw err;
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    void stopAll().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (const app of apps) {
    app.process.once('exit', (code) => {
      if (!stopping) {
        say(`${app.name} exited unexpectedly (${String(code)}); see ${dir}/logs`);
        stop();
      }
    });
  }
}

/** The pools of one egress, for the start-up lines: `nl 127.0.10.0/24, de-munich ...`. */
function describePools(addresses: unknown): string {
  const { regions } = addresses as { regions: { id: string; ipv4?: string[]; ipv6?: string[] }[] };
  return regions
    .map((r) => `${r.id} ${[...(r.ipv4 ?? []), ...(r.ipv6 ?? [])].join(' ')}`)
    .join(', ');
}

/** Which demo region a source address belongs to. */
function regionOf(address: string): string {
  for (const [egress, pool] of [
    [DEMO.egress.id, DEMO_POOLS.eu],
    [DEMO.egressUs.id, DEMO_POOLS.us],
  ] as const) {
    for (const r of pool.regions) {
      const prefix = r.ipv4[0].split('.').slice(0, 3).join('.');
      if (address.startsWith(`${prefix}.`)) return `${egress}'s region ${r.id}`;
    }
  }
  return 'no demo pool (unexpected)';
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
