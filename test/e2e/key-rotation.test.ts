/**
 * Rotating an egress's TLS key under continuous traffic, the way an operator would: sign an
 * entry pinning both keys, switch the egress to the new key (SIGHUP), then sign one pinning
 * only the new key. New sessions and flows keep starting throughout: zero may fail.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { selfSigned } from '@splitrelay/devcerts';
import { spkiPin } from '@splitrelay/directory';
import { startNats, type NatsServer } from '@splitrelay/nats-kit';
import { ADDR, INGRESS_NAME, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { tlsExchange } from '@splitrelay/test-kit/raw';
import { eventually } from '@splitrelay/test-kit/eventually';

let nats: NatsServer;
let world: World;
let echo: Awaited<ReturnType<typeof echoTarget>>;

before(async () => {
  nats = await startNats({ host: '127.0.7.1' });
  world = await startWorld({ natsServers: [nats.url], logLevel: 'info', heartbeatMs: 300 });
  echo = await echoTarget(ADDR.target);
});
after(async () => {
  await echo?.close();
  await world?.stop();
  await world?.cleanup();
  await nats?.stop();
});

/** The pins the ingress currently serves for egress-1. */
async function servedPins(): Promise<string[]> {
  const res = await tlsExchange(
    {
      host: ADDR.ingress,
      port: world.ingressPort,
      servername: INGRESS_NAME,
      ca: readFileSync(world.deployment.caCert, 'utf8'),
    },
    `GET /.well-known/splitrelay/directory HTTP/1.1\r\nHost: ${INGRESS_NAME}\r\nConnection: close\r\n\r\n`,
  );
  const file = JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4)) as {
    entries: Array<{ payload: string }>;
  };
  const entry = file.entries
    .map(
      (e) =>
        JSON.parse(Buffer.from(e.payload, 'base64url').toString()) as {
          id: string;
          tlsPins: string[];
        },
    )
    .find((e) => e.id === 'egress-1');
  return entry?.tlsPins ?? [];
}

const WAIT = { timeoutMs: 15_000 };

test(
  'an egress key rotation under continuous traffic fails no flow',
  { timeout: 120_000 },
  async () => {
    const paths = world.deployment.egress['egress-1']!;
    const oldPin = spkiPin(readFileSync(paths.cert, 'utf8'));
    const next = await selfSigned({
      commonName: 'egress-1',
      dnsNames: ['egress-1'],
      ipAddresses: [ADDR.egress(0)],
      usage: 'server',
    });
    const newPin = spkiPin(next.certPem);
    const endpoint = String(world.egresses[0]!.ready.listen);
    const sign = (pins: string[], version: number) => {
      const now = Math.floor(Date.now() / 1000);
      return world.deployment.signDirectory([
        {
          id: 'egress-1',
          endpoint,
          region: 'eu',
          tlsPins: pins,
          notBefore: now - 60,
          notAfter: now + 3600,
          version,
        },
      ]);
    };

    // Traffic: a new client (new inner session) and a new flow every few milliseconds.
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const traffic = (async () => {
      while (running) {
        const client = sdkClient(world);
        try {
          const flow = await client.connect({ host: ADDR.target, port: echo.port });
          const chunks: Buffer[] = [];
          flow.on('data', (c: Buffer) => chunks.push(c));
          const ended = new Promise((r) => flow.once('end', r));
          flow.end('rotation');
          await ended;
          if (Buffer.concat(chunks).toString() === 'rotation') ok++;
          else failures.push('corrupt echo');
        } catch (err) {
          failures.push(String(err));
        } finally {
          client.close();
        }
      }
    })();

    const version = Math.floor(Date.now() / 1000) + 10;
    /** Each phase carries traffic: counted flows, not a time a busy machine might fill less. */
    const flowsRun = async (n: number, phase: string): Promise<void> => {
      const from = ok;
      await eventually(`${n} flows ${phase}`, () => ok >= from + n || failures.length > 0, {
        timeoutMs: 60_000,
      });
    };
    await flowsRun(5, 'before the rotation');
    // 1. Overlap: the entry pins both keys; wait until the ingress has it.
    await sign([oldPin, newPin], version);
    await eventually('both pins served', async () => (await servedPins()).length === 2, WAIT);
    // 2. The egress switches to the new key.
    writeFileSync(paths.cert, next.certPem);
    writeFileSync(paths.key, next.keyPem);
    world.egresses[0]!.process.kill('SIGHUP');
    await eventually(
      'the egress to reload',
      () => world.egresses[0]!.lines.some((l) => l.includes('tls identity reloaded')),
      WAIT,
    );
    await flowsRun(10, 'on the new key, both pins served');
    // 3. The old key is retired.
    await sign([newPin], version + 1);
    await eventually(
      'only the new pin served',
      async () => JSON.stringify(await servedPins()) === JSON.stringify([newPin]),
      WAIT,
    );
    await flowsRun(10, 'with only the new pin served');
    running = false;
    await traffic;

    console.log(`# rotation: ${ok} flows on fresh sessions succeeded, ${failures.length} failed`);
    assert.deepEqual(failures, []);
    assert.ok(ok >= 25, `only ${ok} flows ran`);
  },
);
