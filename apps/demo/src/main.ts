#!/usr/bin/env node
/**
 * The demo: a whole SplitRelay on this machine, one loopback address per role. It makes a
 * local CA and certificates if absent, starts NATS, egress, the Privacy Pass issuer, ingress
 * and client proxies (the client fetching tokens from the issuer), fetches
 * the demo page through both relays, shows what each relay saw, prints `READY <json>`, and
 * stays up until Ctrl-C. The egress is also an Oblivious HTTP gateway (with DoH to its own
 * resolver), the ingress its relay, and the client offers both on loopback.
 */
import { readFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProxyAgent, fetch } from 'undici';
import {
  issuerBaseConfig,
  prepareDeployment,
  startApp,
  type RunningApp,
} from '@splitrelay/local-deployment';
import { TEST_CREDENTIALS, startNats, type NatsServer } from '@splitrelay/nats-kit';
import { OHTTP_KEYS_PREFIX, OHTTP_RELAY_PREFIX } from '@splitrelay/directory';
import { DEMO, extraAllowedTargets } from './layout.ts';
import { startDemoTarget } from './target.ts';
import { startDemoResolver } from './resolver.ts';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const dir = process.env.SPLITRELAY_DEMO_DIR ?? join(root, '.demo');
const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** The ingress learns the egress over NATS; the demo waits until it has. */
async function waitForEgress(healthUrl: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(healthUrl).catch(() => undefined);
    const health = ((await res?.json().catch(() => ({}))) ?? {}) as {
      egresses?: Record<string, string>;
      tokenKeys?: unknown[];
    };
    if (health.egresses?.[DEMO.egress.id] === 'up' && (health.tokenKeys?.length ?? 0) > 0) return;
    if (Date.now() > deadline)
      throw new Error('the ingress never learned the egress and the issuer key over NATS');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  say(`SplitRelay demo: state in ${dir}`);
  await mkdir(join(dir, 'logs'), { recursive: true });
  const deployment = await prepareDeployment({
    dir,
    ingressHost: DEMO.ingress.host,
    ingressName: DEMO.ingress.name,
    egresses: [DEMO.egress],
    targetHosts: [DEMO.target.host],
    targetName: DEMO.target.name,
    issuer: { host: DEMO.issuer.host, name: DEMO.issuer.name },
    ohttp: {},
  });
  const issuerMaterial = deployment.issuer!;
  const logs = {
    ingress: join(dir, 'logs', 'ingress.log'),
    egress: join(dir, 'logs', 'egress.log'),
    client: join(dir, 'logs', 'client.log'),
    issuer: join(dir, 'logs', 'issuer.log'),
  };

  const allow = ['127.0.4.0/24', ...extraAllowedTargets(process.env)];
  say(`egress allowlist: ${allow.join(', ')} (everything else private or loopback is refused)`);

  const apps: RunningApp[] = [];
  const target = await startDemoTarget(
    DEMO.target.host,
    DEMO.target.port,
    deployment.target.cert,
    deployment.target.key,
  );
  const resolver = await startDemoResolver(DEMO.resolver.host, DEMO.resolver.port, {
    [DEMO.target.name]: DEMO.target.host,
  });
  let nats: NatsServer | undefined;
  const stopAll = async (): Promise<void> => {
    await Promise.all(apps.map((a) => a.stop()));
    await nats?.stop();
    await new Promise<void>((r) => target.close(() => r()));
    await new Promise<void>((r) => resolver.close(() => r()));
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
    const egressConfig = await deployment.writeConfig('egress', {
      egressId: DEMO.egress.id,
      listen: `${DEMO.egress.host}:${DEMO.egress.port}`,
      tls: deployment.egress[DEMO.egress.id],
      knownIngresses: [{ name: 'demo-ingress', cert: deployment.ingress.trunkCert }],
      policy: { allowCidrs: allow },
      dns: { hosts: { [DEMO.target.name]: [DEMO.target.host] } },
      localAddress: DEMO.egress.host,
      log: { level: 'info', statsIntervalMs: 5000, flows: false },
      // The Oblivious HTTP gateway, under the same allowlist; DoH goes to the egress's resolver.
      ohttp: {
        keyRing: deployment.ohttpKeyRings[DEMO.egress.id],
        ca: deployment.caCert,
        doh: { upstream: `${DEMO.resolver.host}:${DEMO.resolver.port}` },
      },
      controlPlane: {
        servers: [nats.url],
        user: TEST_CREDENTIALS.egress.user,
        password: TEST_CREDENTIALS.egress.pass,
        heartbeatMs: 1000,
        announceMs: 2000,
        entryFile: deployment.directoryFile,
      },
    });
    apps.push(await startApp('egress', egressConfig, { logFile: logs.egress }));
    say(
      `egress   ${DEMO.egress.host}:${DEMO.egress.port}  (sees the ingress and the targets, never you)`,
    );

    const issuerConfig = await deployment.writeConfig('issuer', {
      ...issuerBaseConfig(issuerMaterial),
      listen: `${DEMO.issuer.host}:${DEMO.issuer.port}`,
      limits: { tokensPerSubscriberPerHour: 2000, maxRequestBytes: 16_384, maxBatch: 32 },
      log: { level: 'info', statsIntervalMs: 5000 },
      controlPlane: {
        servers: [nats.url],
        user: TEST_CREDENTIALS.issuer.user,
        password: TEST_CREDENTIALS.issuer.pass,
        issuerId: 'demo-issuer',
        announceMs: 2000,
      },
    });
    apps.push(await startApp('issuer', issuerConfig, { logFile: logs.issuer }));
    say(
      `issuer   ${DEMO.issuer.host}:${DEMO.issuer.port}  (sees your subscription when you fetch tokens, never where you spend them)`,
    );

    const ingressConfig = await deployment.writeConfig('ingress', {
      listen: `${DEMO.ingress.host}:${DEMO.ingress.port}`,
      tls: { cert: deployment.ingress.cert, key: deployment.ingress.key },
      trunk: {
        cert: deployment.ingress.trunkCert,
        key: deployment.ingress.trunkKey,
        localAddress: DEMO.ingress.host,
      },
      directory: { operatorKeys: [{ publicKey: deployment.operatorPublicKey }] },
      log: { level: 'info', statsIntervalMs: 5000 },
      health: { listen: `${DEMO.ingress.host}:${DEMO.ingress.healthPort}` },
      controlPlane: {
        servers: [nats.url],
        user: TEST_CREDENTIALS.ingress.user,
        password: TEST_CREDENTIALS.ingress.pass,
        heartbeatMs: 1000,
        ingressId: 'demo-ingress',
      },
      // One Privacy Pass token per session; the issuer's key arrives over NATS.
      admission: {
        privacyPass: { issuerName: DEMO.issuer.name, origin: DEMO.ingress.name },
      },
      // The Oblivious HTTP relay: one token pays for 100 requests on a connection.
      ohttp: { requestsPerToken: 100 },
    });
    apps.push(await startApp('ingress', ingressConfig, { logFile: logs.ingress }));
    say(
      `ingress  ${DEMO.ingress.host}:${DEMO.ingress.port}  (sees you and which egress, never the target)`,
    );
    await waitForEgress(`http://${DEMO.ingress.host}:${DEMO.ingress.healthPort}/health`);

    const clientConfig = await deployment.writeConfig('client', {
      ingress: {
        address: `${DEMO.ingress.host}:${DEMO.ingress.port}`,
        servername: DEMO.ingress.name,
        ca: deployment.caCert,
      },
      localAddress: DEMO.clientSource,
      // No directory file: the client fetches the signed directory from the ingress and
      // verifies it against the egress operator's key itself.
      directory: { operatorKeys: [{ publicKey: deployment.operatorPublicKey }] },
      tokens: {
        issuer: `https://${DEMO.issuer.host}:${DEMO.issuer.port}`,
        ca: deployment.caCert,
        servername: DEMO.issuer.name,
        credentialFile: issuerMaterial.credentialFile,
      },
      socks: { listen: DEMO.socks },
      http: { listen: DEMO.http },
      ohttp: { listen: DEMO.ohttp },
      dns: { listen: DEMO.dns },
      log: { level: 'info' },
    });
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
    // The same page as Oblivious HTTP: the gateway fetches it, the relay sees only ciphertext.
    const oblivious = await fetch(`http://${DEMO.ohttp}/${url}`);
    say(
      `fetched ${url} as Oblivious HTTP (relay at the ingress, gateway at the egress): HTTP ${oblivious.status}`,
    );
    await oblivious.arrayBuffer();
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

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
