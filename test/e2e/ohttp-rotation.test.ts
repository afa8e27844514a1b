/**
 * Rotating the gateway's Oblivious HTTP key under continuous requests, the way an operator
 * would (docs/ohttp.md): add the next key and SIGHUP; publish it behind the current one;
 * promote it; retire the old one (unpublished, accepted until its window ends); prune. The
 * signed entry reaches the ingress over NATS and the clients from the ingress. Zero requests
 * may fail; a client that kept the old directory meets the retired key's "unknown" answer,
 * refetches and succeeds; a key the signed directory does not list is refused by the client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ohttpKeyIds } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import { startNats, type NatsServer } from '@splitrelay/nats-kit';
import {
  addKey,
  promoteKey,
  pruneKeys,
  publishedKeys,
  readKeyRing,
  retireKey,
  writeKeyRing,
  type KeyRing,
} from '@splitrelay/ohttp-gateway';
import type { SplitRelayClient } from '@splitrelay/sdk';
import {
  ADDR,
  INGRESS_NAME,
  TARGET_NAME,
  startWorld,
  type World,
  worldHttpsTarget,
} from '@splitrelay/test-kit/world';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { tlsExchange } from '@splitrelay/test-kit/raw';

const T = { timeout: 120_000 };
let nats: NatsServer;
let world: World;
let target: Awaited<ReturnType<typeof worldHttpsTarget>>;
let url: string;

before(async () => {
  nats = await startNats({ host: '127.0.7.1' });
  world = await startWorld({
    ohttp: true,
    natsServers: [nats.url],
    logLevel: 'info',
    heartbeatMs: 300,
  });
  target = await worldHttpsTarget(world, 'rotated\n');
  url = `https://${TARGET_NAME}:${target.port}/`;
});
after(async () => {
  await target?.close();
  await world?.stop();
  await world?.cleanup();
  await nats?.stop();
});

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ringFile = (): string => world.deployment.ohttpKeyRings['egress-1']!;
let version = 0;

/** Writes the ring, has the egress read it (SIGHUP), and waits for it to say so. */
async function reloadGateway(ring: KeyRing): Promise<void> {
  writeKeyRing(ringFile(), ring);
  const count = () =>
    world.egresses[0]!.lines.filter((l) => l.includes('ohttp keys reloaded')).length;
  const before = count();
  world.egresses[0]!.process.kill('SIGHUP');
  await until('the gateway to reload its keys', () => count() > before);
}

/** Signs the entry with the ring's published keys; the egress announces it within a second. */
async function publish(ring: KeyRing, clients: SplitRelayClient[]): Promise<number[]> {
  const entry = world.deployment.entries[0]!;
  const ohttpKeys = Buffer.from(await publishedKeys(ring)).toString('base64url');
  await world.deployment.signDirectory([
    { ...entry, ohttpKeys, version: entry.version + ++version },
  ]);
  for (const c of clients)
    await until(
      'the client to see the new entry',
      () => c.egresses().get('egress-1')?.ohttpKeys === ohttpKeys,
    );
  return ohttpKeyIds(ohttpKeys);
}

test('a rotation with overlap under continuous requests: none fails', T, async () => {
  const client = sdkClient(world, {
    directory: {
      operatorKeys: [readFileSync(world.deployment.operatorPublicKey, 'utf8')],
      refreshMs: 300,
    },
  });
  // A client that keeps its first directory for the whole test (a long refresh interval).
  const stale = sdkClient(world, {
    directory: {
      operatorKeys: [readFileSync(world.deployment.operatorPublicKey, 'utf8')],
      refreshMs: 600_000,
    },
  });
  try {
    assert.equal((await stale.ohttpFetch(url)).status, 200);
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        try {
          const res = await client.ohttpFetch(url, { method: 'POST', body: 'during rotation' });
          if (res.status === 200 && (await res.text()) === 'rotated\n') ok++;
          else failures.push(`status ${res.status}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const workers = [worker(), worker(), worker()];
    const counted = () => ok;
    const progress = async (n: number) => {
      const at = counted();
      await until(`${n} more requests`, () => counted() >= at + n);
    };
    await progress(10);

    let ring = readKeyRing(ringFile());
    const [first] = ring.keys;
    // 1. The next key: held by the gateway first, then published behind the current one.
    const added = await addKey(ring, 'x25519');
    ring = added.ring;
    await reloadGateway(ring);
    assert.deepEqual(await publish(ring, [client]), [first!.keyId, added.keyId]);
    await progress(10);
    // 2. Promoted: clients switch to it as they refresh; the gateway takes both.
    ring = promoteKey(ring, added.keyId);
    await reloadGateway(ring);
    assert.deepEqual(await publish(ring, [client]), [added.keyId, first!.keyId]);
    await progress(10);
    // 3. The old key retires: unpublished now, accepted for three more seconds.
    const notAfter = Math.floor(Date.now() / 1000) + 3;
    ring = retireKey(ring, first!.keyId, notAfter);
    await reloadGateway(ring);
    assert.deepEqual(await publish(ring, [client]), [added.keyId]);
    await until('the old key’s window to end', () => Date.now() / 1000 >= notAfter + 1);
    await progress(10);
    // 4. Pruned.
    ring = pruneKeys(ring, Math.floor(Date.now() / 1000));
    await reloadGateway(ring);
    assert.deepEqual(
      ring.keys.map((k) => k.keyId),
      [added.keyId],
    );
    await progress(10);

    running = false;
    await Promise.all(workers);
    assert.deepEqual(failures, []);
    assert.ok(ok >= 50, `${ok} requests succeeded`);

    // The stale client still holds the directory naming only the retired key: the gateway
    // answers "key identifier unknown", the client refetches and succeeds with the new key.
    assert.deepEqual(ohttpKeyIds(stale.egresses().get('egress-1')!.ohttpKeys!), [first!.keyId]);
    const late = await stale.ohttpFetch(url);
    assert.equal(late.status, 200);
    assert.equal(await late.text(), 'rotated\n');
    assert.deepEqual(ohttpKeyIds(stale.egresses().get('egress-1')!.ohttpKeys!), [added.keyId]);
  } finally {
    client.close();
    stale.close();
  }
});

test('the client takes keys only from the signed directory', T, async () => {
  const client = sdkClient(world);
  try {
    // The ingress's keys resource serves the signed entry's bytes: accepted.
    const text = await tlsExchange(
      {
        host: ADDR.ingress,
        port: world.ingressPort,
        servername: INGRESS_NAME,
        ca: readFileSync(world.deployment.caCert, 'utf8'),
      },
      `GET /.well-known/ohttp-keys/egress-1 HTTP/1.1\r\nHost: ${INGRESS_NAME}\r\nConnection: close\r\n\r\n`,
    );
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, /content-type: application\/ohttp-keys/i);
    const served = Buffer.from(text.slice(text.indexOf('\r\n\r\n') + 4), 'latin1');
    assert.equal((await client.ohttpFetch(url, { keys: served })).status, 200);
    // A key of someone else's (an ingress tagging this client, say): refused before sending.
    const foreign = await publishedKeys(
      (await addKey({ v: 1, keys: [] }, 'x25519', undefined, 77)).ring,
    );
    await assert.rejects(
      client.ohttpFetch(url, { keys: foreign }),
      (err: unknown) => err instanceof RelayError && err.code === 'pin-mismatch',
    );
  } finally {
    client.close();
  }
});
