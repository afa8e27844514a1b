#!/usr/bin/env node
/**
 * The demo: a whole SplitRelay on this machine, one loopback address per role. It makes a
 * local CA and certificates if absent, starts NATS, egress, the Privacy Pass issuer, ingress
 * and client proxies (the client fetching tokens from the issuer), fetches
 * the demo page through both relays, shows what each relay saw, prints `READY <json>`, and
 * stays up until Ctrl-C.
 */
import { readFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProxyAgent, fetch } from 'undici';
import { prepareDeployment, startApp, type RunningApp } from '@splitrelay/local-deployment';
import { controlPlaneLogin, startNats, type NatsServer } from '@splitrelay/nats-kit';
import { eventually } from '@splitrelay/test-kit/eventually';
import { DEMO, extraAllowedTargets } from './layout.ts';
import { startDemoTarget } from './target.ts';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const dir = process.env.SPLITRELAY_DEMO_DIR ?? join(root, '.demo');
const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** The ingress learns the egress over NATS; the demo waits until it has. */
async function waitForEgress(healthUrl: string): Promise<void> {
  await eventually(
    'the ingress to learn the egress and the issuer key over NATS',
    async () => {
      const res = await fetch(healthUrl).catch(() => undefined);
      const health = ((await res?.json().catch(() => ({}))) ?? {}) as {
        egresses?: Record<string, string>;
        tokenKeys?: unknown[];
      };
      return health.egresses?.[DEMO.egress.id] === 'up' && (health.tokenKeys?.length ?? 0) > 0;
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
}

async function main(): Promise<void> {
  say(`SplitRelay demo: state in ${dir}`);
  await mkdir(join(dir, 'logs'), { recursive: true });
  const allow = ['127.0.4.0/24', ...extraAllowedTargets(process.env)];
  const deployment = await prepareDeployment({
    dir,
    ingressHost: DEMO.ingress.host,
    ingressPort: DEMO.ingress.port,
    ingressName: DEMO.ingress.name,
    ingressId: 'demo-ingress',
    egresses: [DEMO.egress],
    targetHosts: [DEMO.target.host],
    targetName: DEMO.target.name,
    targetCidrs: allow,
    clientHost: DEMO.clientSource,
    issuer: { host: DEMO.issuer.host, name: DEMO.issuer.name, port: DEMO.issuer.port },
  });
  const { configs } = deployment;
  const issuerMaterial = deployment.issuer!;
  const logs = {
    ingress: join(dir, 'logs', 'ingress.log'),
    egress: join(dir, 'logs', 'egress.log'),
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
  let nats: NatsServer | undefined;
  const stopAll = async (): Promise<void> => {
    await Promise.all(apps.map((a) => a.stop()));
    await nats?.stop();
    await new Promise<void>((r) => target.close(() => r()));
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
    const egressConfig = await deployment.writeConfig(
      'egress',
      configs.egress(DEMO.egress.id, {
        log: { level: 'info', statsIntervalMs: 5000, flows: false },
        controlPlane: {
          ...controlPlaneLogin('egress', [nats.url]),
          heartbeatMs: 1000,
          announceMs: 2000,
        },
      }),
    );
    apps.push(await startApp('egress', egressConfig, { logFile: logs.egress }));
    say(
      `egress   ${DEMO.egress.host}:${DEMO.egress.port}  (sees the ingress and the targets, never you)`,
    );

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
      }),
    );
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
    say(
      `  the target saw the request come from ${res.headers.get('x-seen-peer') ?? '?'} (the egress)`,
    );
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
    say('');
    say(`try: curl --cacert ${deployment.caCert} --proxy socks5h://${DEMO.socks} ${url}`);
    say('Ctrl-C stops everything.');
    say(
      `READY ${JSON.stringify({
        socks: `socks5h://${DEMO.socks}`,
        http: `http://${DEMO.http}`,
        ingress: `${DEMO.ingress.host}:${DEMO.ingress.port}`,
        egress: `${DEMO.egress.host}:${DEMO.egress.port}`,
        nats: nats.url,
        issuer: `https://${DEMO.issuer.host}:${DEMO.issuer.port}`,
        target: url,
        ca: deployment.caCert,
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

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
