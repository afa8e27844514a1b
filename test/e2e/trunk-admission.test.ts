/**
 * Trunk admission through the control plane: the ingress operator signs its trunk
 * certificate (sign-trunk-cert), the ingress announces it over NATS, and the egress admits
 * exactly the certificates the ingress operator vouches for: no static list needed, and a
 * certificate nobody vouched for (or vouched for by a stranger's key) stays out.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signIngressCert } from '@splitrelay/control-plane';
import { selfSigned } from '@splitrelay/devcerts';
import { generateOperatorKey } from '@splitrelay/directory';
import { connectAs, startNats, type NatsServer } from '@splitrelay/nats-kit';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { trunkVerdict } from '@splitrelay/test-kit/raw';
import { eventually } from '@splitrelay/test-kit/eventually';
import { tmpdir } from 'node:os';

const signTool = fileURLToPath(
  new URL('../../apps/ingress/src/sign-trunk-cert.ts', import.meta.url),
);
let nats: NatsServer;
let world: World;
let echo: Awaited<ReturnType<typeof echoTarget>>;

const WAIT = { timeoutMs: 15_000 };

before(async () => {
  nats = await startNats({ host: '127.0.7.1' });
  // The ingress operator's key; its signed announcement of the trunk certificate is made
  // once the world's PKI exists, before any relay starts.
  const dir = mkdtempSync(join(tmpdir(), 'ingress-operator-'));
  const operator = generateOperatorKey();
  writeFileSync(join(dir, 'operator.key'), operator.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'operator.pub'), operator.publicKeyPem);
  const announcement = join(dir, 'trunk-cert.json');
  world = await startWorld({
    natsServers: [nats.url],
    logLevel: 'info',
    heartbeatMs: 300,
    beforeStart: (deployment) => {
      execFileSync(process.execPath, [
        signTool,
        '--key',
        join(dir, 'operator.key'),
        '--id',
        'ingress-1',
        '--cert',
        deployment.ingress.trunkCert,
        '--days',
        '1',
        '--out',
        announcement,
      ]);
    },
    // No static list: the egress admits only what the ingress operator announces.
    egressExtra: { knownIngresses: [] },
    egressControlPlane: { ingressOperatorKeys: [{ publicKey: join(dir, 'operator.pub') }] },
    ingressControlPlane: { trunkCertAnnouncement: announcement },
  });
  echo = await echoTarget(ADDR.target);
});
after(async () => {
  await echo?.close();
  await world?.stop();
  await world?.cleanup();
  await nats?.stop();
});

const egress = () => ({
  host: ADDR.egress(0),
  port: Number(String(world.egresses[0]!.ready.listen).split(':').pop()),
});

test(
  'the egress admits the announced trunk certificate and nothing else',
  { timeout: 60_000 },
  async () => {
    await eventually(
      'the egress to admit the announced certificate',
      () =>
        world.egresses[0]!.lines.some(
          (l) => l.includes('"trunk peers"') && l.includes('"count":1'),
        ),
      WAIT,
    );
    const client = sdkClient(world);
    try {
      const flow = await client.connect({ host: ADDR.target, port: echo.port });
      flow.end('admitted');
      const chunks: Buffer[] = [];
      for await (const c of flow) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'admitted');
    } finally {
      client.close();
    }
    const stranger = await selfSigned({ commonName: 'stranger', usage: 'client' });
    assert.equal(
      await trunkVerdict(egress(), { cert: stranger.certPem, key: stranger.keyPem }),
      'refused',
    );
  },
);

test(
  'an announcement signed by a key the egress does not trust is rejected',
  { timeout: 60_000 },
  async () => {
    const stranger = await selfSigned({ commonName: 'stranger-2', usage: 'client' });
    const rogue = generateOperatorKey();
    const now = Math.floor(Date.now() / 1000);
    const forged = signIngressCert(
      {
        v: 1,
        id: 'ingress-9',
        certPem: new X509Certificate(stranger.certPem).toString(),
        notBefore: now - 10,
        notAfter: now + 3600,
        version: now,
      },
      createPrivateKey(rogue.privateKeyPem),
      rogue.kid,
    );
    const publisher = await connectAs('ingress', nats.url);
    publisher.publish('splitrelay.trunk.ingress-cert.ingress-9', JSON.stringify(forged));
    await publisher.flush();
    await publisher.close();
    await eventually(
      'the egress to reject it',
      () => world.egresses[0]!.lines.some((l) => l.includes('ingress certificate rejected')),
      WAIT,
    );
    assert.equal(
      await trunkVerdict(egress(), { cert: stranger.certPem, key: stranger.keyPem }),
      'refused',
    );
  },
);
