/**
 * The NATS control plane end to end, on the real accounts config: the directory reaches the
 * ingress over NATS and clients unmodified; an auditor sees every family that crosses between
 * the operators, none of it names a client or a target, and none of it is per flow (each with
 * a leaky publisher as negative control); tampered entries are refused; health takes a dead
 * egress out within seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { findLeaks, targetIdentities } from '@splitrelay/evidence';
import { FAMILIES, crossesAccounts, parseSubject, type Family } from '@splitrelay/control-plane';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { run } from '@splitrelay/test-kit/run';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { tlsExchange } from '@splitrelay/test-kit/raw';
import { eventually } from '@splitrelay/test-kit/eventually';

const T = { timeout: 90_000 };
let nats: NatsServer;
let world: World;
let target: Listening<https.Server>;
let auditor: NatsConnection;
const crossed: Array<{ subject: string; data: Buffer; at: number }> = [];
const HEARTBEAT_MS = 500;
/** How often each family's publisher sends on its own (the world's settings). */
const INTERVAL_MS: Readonly<Record<Family, number>> = {
  directory: 1000,
  'egress-health': HEARTBEAT_MS,
  'ingress-health': HEARTBEAT_MS,
  'ingress-cert': 5 * HEARTBEAT_MS,
  // The signed manifests: the egress's with its entry, the ingress's with its certificate.
  'egress-manifest': 1000,
  'ingress-manifest': 5 * HEARTBEAT_MS,
};

/**
 * Subjects that sent more in `windowMs` than their timer allows (one per interval, plus one at
 * each edge of the window and one for a reconnect), and subjects new in the window: what a
 * message per flow would look like.
 */
function overTimerBudget(
  messages: readonly { subject: string }[],
  windowMs: number,
  known: ReadonlySet<string>,
): string[] {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m.subject, (counts.get(m.subject) ?? 0) + 1);
  const problems: string[] = [];
  for (const [subject, count] of counts) {
    const family = parseSubject(subject)?.family;
    if (!known.has(subject)) problems.push(`${subject}: not seen before the flows`);
    if (family === undefined || !crossesAccounts(family)) continue;
    const allowed = Math.floor(windowMs / INTERVAL_MS[family]) + 3;
    if (count > allowed)
      problems.push(`${subject}: ${count} messages, the timer allows ${allowed}`);
  }
  return problems;
}

const ingressHealth = async (): Promise<Record<string, unknown>> =>
  (await (await fetch(world.ingressHealthUrl)).json()) as Record<string, unknown>;

before(async () => {
  nats = await startNats({ host: '127.0.7.1' });
  auditor = await connectAs('auditor', nats.url);
  auditor.subscribe('splitrelay.>', {
    callback: (_err, msg) => {
      crossed.push({ subject: msg.subject, data: Buffer.from(msg.data), at: Date.now() });
    },
  });
  world = await startWorld({
    egresses: 2,
    natsServers: [nats.url],
    logLevel: 'info',
    heartbeatMs: HEARTBEAT_MS,
    // The ingress operator announces the trunk certificate: the fourth crossing family.
    announceTrunkCert: true,
    // Every relay publishes its signed manifest: the fifth and sixth.
    manifests: true,
    egressExtra: {
      localAddress: undefined,
      addresses: {
        defaultRegion: 'nl',
        entropyFloorBits: 4,
        regions: [{ id: 'nl', country: 'NL', ipv4: ['127.0.10.0/27'] }],
      },
    },
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
    const families = new Set(crossed.map((m) => parseSubject(m.subject)?.family));
    for (const f of FAMILIES) assert.ok(families.has(f), `${f} crossed`);
    const leaks = findLeaks(
      Object.fromEntries(crossed.map((m, i) => [`${i}:${m.subject}`, m.data])),
      [
        { kind: 'ip', address: ADDR.client },
        ...targetIdentities({ name: TARGET_NAME, ip: ADDR.target, port: target.port }),
      ],
    );
    assert.deepEqual(leaks, []);
  });

  test('no control message per flow: 200 flows cross no more than the timers send', async () => {
    const FLOWS = 200;
    const echo = await echoTarget(ADDR.target);
    const client = sdkClient(world);
    const known = new Set(crossed.map((m) => m.subject));
    /** Runs FLOWS echo flows, calling `each` after every one; the window and what crossed. */
    const flows = async (each: (i: number) => void) => {
      const from = crossed.length;
      const t0 = Date.now();
      for (let i = 0; i < FLOWS; i += 20) {
        await Promise.all(
          Array.from({ length: 20 }, async (_, j) => {
            const flow = await client.connect({ host: ADDR.target, port: echo.port });
            flow.end('x');
            for await (const chunk of flow) void chunk;
            each(i + j);
          }),
        );
      }
      // Whatever was published during the flows has reached the auditor after a round trip.
      await auditor.flush();
      return { windowMs: Date.now() - t0, messages: crossed.slice(from) };
    };
    try {
      const clean = await flows(() => {});
      assert.deepEqual(overTimerBudget(clean.messages, clean.windowMs, known), []);
      // The check has the power to tell: more flows than any timer's allowance in the window.
      assert.ok(FLOWS > clean.windowMs / HEARTBEAT_MS + 3, `${clean.windowMs} ms for the flows`);

      // Negative control: an egress that sends a heartbeat for each flow it carries.
      const leaky = await connectAs('egress', nats.url);
      try {
        const heartbeat = (i: number) =>
          leaky.publish(
            'splitrelay.health.egress.egress-2',
            JSON.stringify({
              v: 1,
              id: 'egress-2',
              status: 'up',
              load: 0,
              sessions: i,
              capacity: 1,
            }),
          );
        const leakyRun = await flows(heartbeat);
        await leaky.flush();
        await auditor.flush();
        const problems = overTimerBudget(leakyRun.messages, leakyRun.windowMs, known);
        assert.ok(
          problems.some((p) => p.startsWith('splitrelay.health.egress.egress-2:')),
          problems.join('\n'),
        );
      } finally {
        await leaky.close();
      }
    } finally {
      client.close();
      await echo.close();
    }
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
      targetIdentities({ name: TARGET_NAME, ip: ADDR.target, port: target.port }),
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
    // Refused, not merely not yet arrived: wait for the ingress to have judged each one.
    await eventually('the ingress to reject all three', () =>
      ['evil-1', 'evil-2', 'evil-3'].every((id) =>
        world.ingress.lines.some(
          (l) => l.includes('directory entry rejected') && l.includes(`"egressId":"${id}"`),
        ),
      ),
    );
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
      // At once: not after a directory refresh (every 300 s) or the health ttl, but by the
      // next flow; the bound only rules those out, with room for a busy machine.
      assert.ok(Date.now() - killedAt < 10_000, 'failover without waiting for a refresh');
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
