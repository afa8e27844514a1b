/**
 * The NATS control plane end to end, on the real accounts config: the directory reaches the
 * ingress over NATS and clients unmodified; an auditor sees everything that crosses between
 * the operators and none of it is per-flow (with a leaky publisher as negative control);
 * tampered entries are refused; health takes a dead egress out within seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import dgram from 'node:dgram';
import type https from 'node:https';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectAs, startNats, type NatsServer } from '@splitrelay/nats-kit';
import { generateOperatorKey, signEntry, spkiPin } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import {
  ADDR,
  INGRESS_NAME,
  TARGET_NAME,
  startWorld,
  type World,
  worldHttpsTarget,
} from '@splitrelay/test-kit/world';
import type { Listening } from '@splitrelay/test-kit/targets';
import { findLeaks, targetNeedles } from '@splitrelay/test-kit/leak-check';
import { run } from '@splitrelay/test-kit/run';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { tlsExchange } from '@splitrelay/test-kit/raw';
import { eventually } from '@splitrelay/test-kit/eventually';

const T = { timeout: 90_000 };
let nats: NatsServer;
let world: World;
let target: Listening<https.Server>;
let auditor: NatsConnection;
const crossed: Array<{ subject: string; data: Buffer }> = [];

const ingressHealth = async (): Promise<Record<string, unknown>> =>
  (await (await fetch(world.ingressHealthUrl)).json()) as Record<string, unknown>;

before(async () => {
  nats = await startNats({ host: '127.0.7.1' });
  auditor = await connectAs('auditor', nats.url);
  auditor.subscribe('splitrelay.>', {
    callback: (_err, msg) => {
      crossed.push({ subject: msg.subject, data: Buffer.from(msg.data) });
    },
  });
  world = await startWorld({
    egresses: 2,
    natsServers: [nats.url],
    logLevel: 'info',
    heartbeatMs: 500,
  });
  target = await worldHttpsTarget(world);
});
after(async () => {
  await target?.close();
  await world?.stop();
  await world?.cleanup();
  await auditor?.close();
  await nats?.stop();
});

describe('the directory and health over NATS', T, () => {
  test('the ingress learns both egresses over NATS and serves the signed entries unmodified', async () => {
    await eventually('both egresses up', async () => {
      const h = await ingressHealth();
      return JSON.stringify(h.egresses) === JSON.stringify({ 'egress-1': 'up', 'egress-2': 'up' });
    });
    assert.equal((await ingressHealth()).controlPlane, 'ok');
    const served = await tlsExchange(
      {
        host: ADDR.ingress,
        port: world.ingressPort,
        servername: INGRESS_NAME,
        ca: readFileSync(world.deployment.caCert, 'utf8'),
      },
      `GET /.well-known/splitrelay/directory HTTP/1.1\r\nHost: ${INGRESS_NAME}\r\nConnection: close\r\n\r\n`,
    );
    const body = JSON.parse(served.slice(served.indexOf('\r\n\r\n') + 4)) as { entries: unknown[] };
    const signedByOperator = (
      JSON.parse(readFileSync(world.deployment.directoryFile, 'utf8')) as { entries: unknown[] }
    ).entries;
    assert.deepEqual(
      new Set(body.entries.map((e) => JSON.stringify(e))),
      new Set(signedByOperator.map((e) => JSON.stringify(e))),
    );
  });

  test('a client that got its directory from the ingress browses through both relays (TCP and UDP)', async () => {
    const res = await run('curl', [
      '--silent',
      '--show-error',
      '--max-time',
      '15',
      '--cacert',
      world.deployment.caCert,
      '--proxy',
      `socks5h://127.0.0.1:${world.socksPort}`,
      `https://${TARGET_NAME}:${target.port}/`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    const echo = dgram.createSocket('udp4');
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    echo.bind(target.port, ADDR.target);
    await once(echo, 'listening');
    const client = sdkClient(world);
    try {
      const flow = await client.openUdp({ host: TARGET_NAME, port: target.port });
      const got = new Promise<Buffer>((r) => flow.once('datagram', r));
      flow.send(Buffer.from('udp over the control-planed relays'));
      assert.equal((await got).toString(), 'udp over the control-planed relays');
      flow.close();
    } finally {
      client.close();
      echo.close();
    }
  });

  test('the auditor saw every family cross, and no client address or target in any of it', async () => {
    const families = new Set(crossed.map((m) => m.subject.split('.').slice(0, 3).join('.')));
    for (const f of [
      'splitrelay.directory.entry',
      'splitrelay.health.egress',
      'splitrelay.health.ingress',
    ])
      assert.ok(families.has(f), `${f} crossed`);
    const leaks = findLeaks(
      Object.fromEntries(crossed.map((m, i) => [`${i}:${m.subject}`, m.data])),
      [ADDR.client, ...targetNeedles({ name: TARGET_NAME, ip: ADDR.target, port: target.port })],
    );
    assert.deepEqual(leaks, []);
  });

  test('negative control: a leaky publisher is caught by the auditor, and dropped by the ingress', async () => {
    const before = crossed.length;
    const leaky = await connectAs('egress', nats.url);
    leaky.publish(
      'splitrelay.health.egress.egress-1',
      JSON.stringify({
        v: 1,
        id: 'egress-1',
        status: 'up',
        load: 0,
        sessions: 1,
        capacity: 1,
        sentAt: Date.now(),
        ttlMs: 1500,
        lastTarget: `${TARGET_NAME}:${target.port}`,
      }),
    );
    await leaky.flush();
    await leaky.close();
    await eventually('the leak to reach the auditor', () =>
      crossed.slice(before).some((m) => m.data.includes('lastTarget')),
    );
    const leaks = findLeaks(
      Object.fromEntries(crossed.slice(before).map((m, i) => [`${i}:${m.subject}`, m.data])),
      targetNeedles({ name: TARGET_NAME, ip: ADDR.target, port: target.port }),
    );
    assert.ok(leaks.length > 0, 'the audit check catches a leaky message');
    await eventually('the ingress to drop it', () =>
      world.ingress.lines.some(
        (l) => l.includes('control message dropped') && l.includes('schema'),
      ),
    );
  });

  test('tampered, expired and foreign-signed entries sent over NATS are refused by the ingress', async () => {
    const now = Math.floor(Date.now() / 1000);
    const real = JSON.parse(readFileSync(world.deployment.directoryFile, 'utf8')) as {
      entries: Array<{ payload: string; sig: string; kid: string }>;
    };
    const genuine = real.entries[0]!;
    const forged = generateOperatorKey();
    const pin = spkiPin(readFileSync(world.deployment.egress['egress-1']!.cert, 'utf8'));
    const entry = (id: string, notAfter: number, operator: string) => ({
      v: 1 as const,
      id,
      operator,
      endpoint: `${ADDR.egress(0)}:1`,
      region: 'eu',
      tlsPins: [pin],
      notBefore: now - 10,
      notAfter,
      version: now + 100,
    });
    const opKey = createPrivateKey(
      readFileSync(join(world.deployment.dir, 'operator.key'), 'utf8'),
    );
    const publisher = await connectAs('egress', nats.url);
    const tamperedPayload = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(genuine.payload, 'base64url').toString()),
        id: 'evil-1',
      }),
    ).toString('base64url');
    publisher.publish(
      'splitrelay.directory.entry.evil-1',
      JSON.stringify({ ...genuine, payload: tamperedPayload }),
    );
    publisher.publish(
      'splitrelay.directory.entry.evil-2',
      JSON.stringify(
        signEntry(
          entry('evil-2', now + 3600, forged.kid),
          createPrivateKey(forged.privateKeyPem),
          forged.kid,
        ),
      ),
    );
    publisher.publish(
      'splitrelay.directory.entry.evil-3',
      JSON.stringify(signEntry(entry('evil-3', now - 1, genuine.kid), opKey, genuine.kid)),
    );
    await publisher.flush();
    await publisher.close();
    await new Promise((r) => setTimeout(r, 500));
    for (const id of ['evil-1', 'evil-2', 'evil-3']) {
      const res = await tlsExchange(
        {
          host: ADDR.ingress,
          port: world.ingressPort,
          servername: INGRESS_NAME,
          ca: readFileSync(world.deployment.caCert, 'utf8'),
        },
        `CONNECT ${id}:443 HTTP/1.1\r\nHost: ${id}:443\r\n\r\n`,
      );
      assert.match(res, /^HTTP\/1\.1 403 /, id);
    }
    assert.ok(
      world.ingress.lines.some(
        (l) => l.includes('directory entry rejected') && l.includes('bad-signature'),
      ),
    );
  });

  test('a dead egress: new flows go through the other one at once, and health marks it down', async () => {
    const client = sdkClient(world, { preference: { region: 'eu' } });
    try {
      const flow = await client.connect({ host: ADDR.target, port: target.port });
      assert.deepEqual(client.sessions(), ['egress-1']);
      let reason: unknown;
      flow.on('error', (err) => (reason = err));
      const closed = new Promise((r) => flow.once('close', r));
      const killedAt = Date.now();
      world.egresses[0]!.process.kill('SIGKILL');
      await closed;
      assert.ok(
        reason instanceof RelayError && reason.code === 'egress-unavailable',
        `open flow failed with ${String(reason)}`,
      );
      const next = await client.connect({ host: ADDR.target, port: target.port });
      assert.ok(Date.now() - killedAt < 5000, 'failover within 5 s');
      assert.ok(client.sessions().includes('egress-2'));
      next.destroy();
      await eventually(
        'health to mark egress-1 down',
        async () =>
          ((await ingressHealth()).egresses as Record<string, string>)['egress-1'] === 'down',
        { timeoutMs: 5000 },
      );
      const res = await tlsExchange(
        {
          host: ADDR.ingress,
          port: world.ingressPort,
          servername: INGRESS_NAME,
          ca: readFileSync(world.deployment.caCert, 'utf8'),
        },
        'CONNECT egress-1:443 HTTP/1.1\r\nHost: egress-1:443\r\n\r\n',
      );
      assert.match(res, /^HTTP\/1\.1 503 /);
      assert.match(res, /Retry-After: \d+/);
      assert.match(res, /error=destination_unavailable/);
    } finally {
      client.close();
    }
  });
});

import { join } from 'node:path';
