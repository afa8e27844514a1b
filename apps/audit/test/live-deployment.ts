/**
 * A deployment for the live-mode test, started apart from the harness on its own loopback
 * addresses (127.0.2x.1): NATS, an egress, the Privacy Pass issuer, an ingress, each the real
 * app with its real config. The harness gets only what an auditor would: the settings file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa } from '@splitrelay/devcerts';
import {
  freePort,
  prepareDeployment,
  startApp,
  type RunningApp,
} from '@splitrelay/local-deployment';
import { TEST_CREDENTIALS, startNats, type NatsServer } from '@splitrelay/nats-kit';

export const LIVE = {
  nats: '127.0.21.1',
  egress: '127.0.22.1',
  issuer: '127.0.23.1',
  ingress: '127.0.24.1',
  client: '127.0.25.1',
  canary: '127.0.26.1',
  zone: 'live-canary.test',
  ingressName: 'ingress.live.splitrelay.test',
  issuerName: 'issuer.live.splitrelay.test',
} as const;

export interface LiveDeployment {
  readonly dir: string;
  /** The settings file an auditor would write for this deployment. */
  readonly settingsFile: string;
  stop(): Promise<void>;
}

async function untilHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const h = (await fetch(url)
      .then((r) => r.json())
      .catch(() => ({}))) as { egresses?: Record<string, string>; tokenKeys?: unknown[] };
    if (h.egresses?.['egress-1'] === 'up' && (h.tokenKeys?.length ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error('the live deployment never became ready');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `egressPreloads`: leaky builds of the deployment's own egress (a live negative control). */
export async function startLiveDeployment(
  options: { egressPreloads?: readonly string[] } = {},
): Promise<LiveDeployment> {
  const dir = await mkdtemp(join(tmpdir(), 'splitrelay-live-'));
  const apps: RunningApp[] = [];
  let nats: NatsServer | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all(apps.map((a) => a.stop()));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const canaryDnsPort = await freePort(LIVE.canary);
    const egressPort = await freePort(LIVE.egress);
    const d = await prepareDeployment({
      dir,
      ingressHost: LIVE.ingress,
      ingressName: LIVE.ingressName,
      egresses: [{ id: 'egress-1', host: LIVE.egress, port: egressPort, region: 'eu' }],
      targetHosts: [],
      targetName: 'unused.live.splitrelay.test',
      issuer: { host: LIVE.issuer, name: LIVE.issuerName },
    });
    nats = await startNats({ host: LIVE.nats });
    const cp = (role: 'egress' | 'ingress' | 'issuer') => ({
      servers: [nats!.url],
      user: TEST_CREDENTIALS[role].user,
      password: TEST_CREDENTIALS[role].pass,
    });
    apps.push(
      await startApp(
        'egress',
        await d.writeConfig('egress', {
          egressId: 'egress-1',
          listen: `${LIVE.egress}:${egressPort}`,
          tls: d.egress['egress-1'],
          knownIngresses: [{ name: 'ingress-1', cert: d.ingress.trunkCert }],
          policy: { allowCidrs: ['127.0.26.0/24'] },
          // The auditor's canary zone is delegated to its DNS server, as a public zone would be.
          dns: { servers: [`${LIVE.canary}:${canaryDnsPort}`] },
          localAddress: LIVE.egress,
          log: { level: 'info', statsIntervalMs: 1000 },
          controlPlane: {
            ...cp('egress'),
            heartbeatMs: 500,
            announceMs: 1000,
            entryFile: d.directoryFile,
          },
        }),
        options.egressPreloads?.length
          ? { nodeArgs: options.egressPreloads.flatMap((p) => ['--import', p]) }
          : {},
      ),
    );
    const issuer = d.issuer!;
    const issuerPort = await freePort(LIVE.issuer);
    apps.push(
      await startApp(
        'issuer',
        await d.writeConfig('issuer', {
          ...d.configs.issuer(),
          listen: `${LIVE.issuer}:${issuerPort}`,
          limits: { tokensPerSubscriberPerHour: 1000, maxRequestBytes: 16_384, maxBatch: 32 },
          log: { level: 'info', statsIntervalMs: 1000 },
          controlPlane: { ...cp('issuer'), issuerId: 'issuer-1', announceMs: 1000 },
        }),
      ),
    );
    const ingressPort = await freePort(LIVE.ingress);
    const healthPort = await freePort(LIVE.ingress);
    apps.push(
      await startApp(
        'ingress',
        await d.writeConfig('ingress', {
          listen: `${LIVE.ingress}:${ingressPort}`,
          tls: { cert: d.ingress.cert, key: d.ingress.key },
          trunk: { cert: d.ingress.trunkCert, key: d.ingress.trunkKey, localAddress: LIVE.ingress },
          directory: { operatorKeys: [{ publicKey: d.operatorPublicKey }] },
          log: { level: 'info', statsIntervalMs: 1000 },
          health: { listen: `${LIVE.ingress}:${healthPort}` },
          admission: {
            privacyPass: {
              issuerName: LIVE.issuerName,
              origin: LIVE.ingressName,
              keys: [{ tokenKey: issuer.tokenKey, ...issuer.keyWindow }],
            },
          },
          controlPlane: { ...cp('ingress'), heartbeatMs: 500, ingressId: 'ingress-1' },
        }),
      ),
    );
    await untilHealthy(`http://${LIVE.ingress}:${healthPort}/health`);

    // The auditor's own: a CA for the canary's certificates, and the settings.
    const ca = await createCa('live-auditor-ca');
    const caCert = join(dir, 'auditor-ca.crt');
    const caKey = join(dir, 'auditor-ca.key');
    await writeFile(caCert, ca.certPem);
    await writeFile(caKey, ca.keyPem, { mode: 0o600 });
    const settingsFile = join(dir, 'live-settings.json');
    await writeFile(
      settingsFile,
      JSON.stringify(
        {
          ingress: {
            address: `${LIVE.ingress}:${ingressPort}`,
            servername: LIVE.ingressName,
            ca: d.caCert,
          },
          directory: { operatorKeys: [{ publicKey: d.operatorPublicKey }] },
          tokens: {
            issuer: `https://${LIVE.issuer}:${issuerPort}`,
            ca: d.caCert,
            servername: LIVE.issuerName,
            credentialFile: issuer.credentialFile,
          },
          client: { localAddress: LIVE.client, captureInterface: 'lo' },
          canary: {
            listen: [LIVE.canary],
            zone: LIVE.zone,
            dnsPort: canaryDnsPort,
            ca: { cert: caCert, key: caKey },
            captureInterface: 'lo',
          },
          controlPlane: {
            servers: [nats.url],
            user: TEST_CREDENTIALS.auditor.user,
            password: TEST_CREDENTIALS.auditor.pass,
          },
          egressAddresses: [LIVE.egress],
        },
        null,
        2,
      ),
    );
    return { dir, settingsFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
