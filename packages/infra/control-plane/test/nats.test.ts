/**
 * The shell against a real nats-server on loopback (no auth): round trips with validation,
 * invalid messages on the wire dropped and counted, and reconnection after a restart.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DirectoryStore, signEntry } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import {
  HealthTable,
  Heartbeat,
  IngressCertStore,
  MAX_MESSAGE_BYTES,
  connectControlPlane,
  signIngressCert,
  type ControlPlaneClient,
  type Delivery,
  type DropReason,
  type Family,
} from '../src/index.ts';
import { NOW, NOW_MS, certFor, entryFor, healthFor, operator } from './fixtures.ts';
import { TestNatsServer } from './nats-server.ts';

async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

let server: TestNatsServer;
let publisher: ControlPlaneClient;
let subscriber: ControlPlaneClient;
/** A plain NATS client: sees everything on the wire, and can publish what the shell won't. */
let raw: NatsConnection;
const wire: string[] = [];
/** Handles open before the suite (the test runner's own pipes), to compare against after. */
let baseline: string[] = [];
const handles = () => process.getActiveResourcesInfo().sort();

before(async () => {
  baseline = handles();
  server = await TestNatsServer.start();
  publisher = await connectControlPlane({
    servers: server.url,
    name: 'edge-fra-1',
    reconnectTimeWaitMs: 50,
  });
  subscriber = await connectControlPlane({
    servers: [server.url],
    name: 'ingress-1',
    reconnectTimeWaitMs: 50,
  });
  raw = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  raw.subscribe('splitrelay.>', {
    callback: (_err, msg) => {
      wire.push(msg.subject);
    },
  });
  await raw.flush();
});

after(async () => {
  await publisher.close();
  await subscriber.close();
  await raw.drain();
  await server.stop();
  // Closed clients and a stopped server leave nothing behind.
  await sleep(20);
  assert.deepEqual(handles(), baseline);
});

function collect<F extends Family>(client: ControlPlaneClient, family: F, id?: string) {
  const got: Array<Delivery<F>> = [];
  const drops: DropReason[] = [];
  const sub = client.subscribe(family, (d) => got.push(d), {
    ...(id === undefined ? {} : { id }),
    onDrop: (reason) => drops.push(reason),
  });
  return { got, drops, sub };
}

test('health, directory and ingress-cert messages round-trip, checked at both ends', async () => {
  const op = operator();
  const health = collect(subscriber, 'egress-health');
  const ingressHealth = collect(subscriber, 'ingress-health', 'ingress-1');
  const directory = collect(subscriber, 'directory');
  const certs = collect(subscriber, 'ingress-cert');
  await subscriber.flush();

  const entry = signEntry(entryFor(op.kid), op.privateKey, op.kid);
  const cert = signIngressCert(certFor(), op.privateKey, op.kid);
  publisher.publish('egress-health', 'edge-fra-1', healthFor());
  publisher.publish('ingress-health', 'ingress-2', healthFor({ id: 'ingress-2' }));
  publisher.publish('ingress-health', 'ingress-1', healthFor({ id: 'ingress-1' }));
  publisher.publish('directory', 'edge-fra-1', entry);
  publisher.publish('ingress-cert', 'ingress-ams-1', cert);
  await publisher.flush();
  await waitFor(
    'deliveries',
    () =>
      health.got.length + ingressHealth.got.length + directory.got.length + certs.got.length === 4,
  );

  assert.deepEqual(health.got, [
    { family: 'egress-health', id: 'edge-fra-1', message: healthFor() },
  ]);
  assert.deepEqual(
    ingressHealth.got.map((d) => d.id),
    ['ingress-1'],
  );
  assert.equal(ingressHealth.sub.subject, 'splitrelay.health.ingress.ingress-1');
  // The signed forms arrive unchanged, so stores accept them and serve them on as they are.
  assert.deepEqual(directory.got[0]?.message, entry);
  const store = new DirectoryStore();
  const applied = store.apply(directory.got[0]?.message, op.trusted, NOW, directory.got[0]?.id);
  assert.deepEqual(applied, { accepted: true, changed: true });
  assert.deepEqual(store.toFile(NOW).entries, [entry]);
  const certStore = new IngressCertStore();
  assert.equal(
    certStore.apply(certs.got[0]?.message, op.trusted, NOW, certs.got[0]?.id).accepted,
    true,
  );
  for (const c of [health, ingressHealth, directory, certs]) {
    assert.deepEqual(c.drops, []);
    c.sub.unsubscribe();
  }
  // The plain client saw them on the wire under their subjects.
  await waitFor('the wire', () => wire.length === 5);
  assert.deepEqual(wire.toSorted(), [
    'splitrelay.directory.entry.edge-fra-1',
    'splitrelay.health.egress.edge-fra-1',
    'splitrelay.health.ingress.ingress-1',
    'splitrelay.health.ingress.ingress-2',
    'splitrelay.trunk.ingress-cert.ingress-ams-1',
  ]);
});

test('a message that fails its schema throws and never reaches the wire', async () => {
  const before = publisher.stats().published;
  const wireBefore = wire.length;
  const leaky = { ...healthFor(), clientAddr: '203.0.113.7' };
  assert.throws(() => publisher.publish('egress-health', 'edge-fra-1', leaky), RelayError);
  assert.throws(
    () => publisher.publish('egress-health', 'edge-fra-1', healthFor({ load: 0.12345 })),
    (err) => {
      assert.ok(err instanceof RelayError);
      assert.equal(err.code, 'internal');
      return true;
    },
  );
  // Valid message, but for another relay than the subject says.
  assert.throws(() => publisher.publish('egress-health', 'edge-ams-1', healthFor()), RelayError);
  const op = operator();
  const entry = signEntry(entryFor(op.kid), op.privateKey, op.kid);
  assert.throws(() => publisher.publish('directory', 'edge-ams-1', entry), RelayError);
  assert.throws(
    () => publisher.publish('directory', 'edge-fra-1', { ...entry, target: 'x' } as never),
    RelayError,
  );
  assert.throws(() => publisher.publish('egress-health', 'Bad Id', healthFor()), TypeError);
  await publisher.flush();
  await raw.flush();
  assert.equal(publisher.stats().published, before);
  assert.equal(wire.length, wireBefore);
});

test('invalid messages on the wire are dropped and counted, never delivered', async () => {
  const health = collect(subscriber, 'egress-health');
  await subscriber.flush();
  const statsBefore = subscriber.stats();
  const enc = (v: unknown) => JSON.stringify(v);
  raw.publish('splitrelay.health.egress.edge-fra-1', 'not json');
  raw.publish('splitrelay.health.egress.edge-fra-1', new Uint8Array([0xff, 0xfe, 0x7b]));
  raw.publish(
    'splitrelay.health.egress.edge-fra-1',
    enc({ ...healthFor(), clientAddr: '203.0.113.7' }),
  );
  raw.publish(
    'splitrelay.health.egress.edge-fra-1',
    enc({ ...healthFor(), target: 'example.com:443' }),
  );
  raw.publish('splitrelay.health.egress.edge-fra-1', enc(healthFor({ status: 'up 203.0.113.7' })));
  raw.publish('splitrelay.health.egress.edge-ams-1', enc(healthFor()));
  raw.publish('splitrelay.health.egress.edge-fra-1', 'x'.repeat(MAX_MESSAGE_BYTES + 1));
  raw.publish('splitrelay.health.egress.edge-fra-1', enc(healthFor({ sentAt: NOW_MS + 1 })));
  await raw.flush();
  await waitFor('the valid one', () => health.got.length === 1);
  await waitFor('drops', () => health.drops.length === 7);
  assert.deepEqual(health.drops, [
    'not-json',
    'not-json',
    'schema',
    'schema',
    'schema',
    'id-mismatch',
    'oversize',
  ]);
  assert.equal(health.got[0]?.message.sentAt, NOW_MS + 1);
  assert.equal(health.sub.dropped, 7);
  assert.equal(health.sub.delivered, 1);
  const stats = subscriber.stats();
  assert.equal(stats.dropped - statsBefore.dropped, 7);
  assert.equal(stats.droppedByReason.schema - statsBefore.droppedByReason.schema, 3);
  assert.equal(stats.delivered - statsBefore.delivered, 1);
  health.sub.unsubscribe();
});

test('a throwing handler goes to onError and does not stop the subscription', async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const sub = subscriber.subscribe(
    'egress-health',
    () => {
      calls += 1;
      throw new Error('handler bug');
    },
    { onError: (err) => errors.push(err) },
  );
  await subscriber.flush();
  publisher.publish('egress-health', 'edge-fra-1', healthFor());
  publisher.publish('egress-health', 'edge-fra-1', healthFor({ sentAt: NOW_MS + 1 }));
  await publisher.flush();
  await waitFor('two calls', () => calls === 2);
  assert.equal(errors.length, 2);
  sub.unsubscribe();
});

test('clients reconnect after the server restarts on the same port, and report it', async () => {
  const states: string[] = [];
  const stop = subscriber.onStatusChange((s) => states.push(s));
  const health = collect(subscriber, 'egress-health');
  await subscriber.flush();
  assert.equal(subscriber.status, 'connected');

  await server.stop();
  await waitFor(
    'disconnected',
    () => subscriber.status === 'disconnected' && publisher.status === 'disconnected',
  );
  await server.restart();
  await waitFor(
    'reconnected',
    () => subscriber.status === 'connected' && publisher.status === 'connected',
  );
  assert.deepEqual(states, ['disconnected', 'connected']);

  // The subscription made before the restart still works: the client resubscribed.
  await subscriber.flush();
  publisher.publish('egress-health', 'edge-fra-1', healthFor({ sentAt: NOW_MS + 5 }));
  await publisher.flush();
  await waitFor('delivery after restart', () => health.got.length === 1);
  stop();
  health.sub.unsubscribe();
});

test('heartbeats over NATS keep a peer up in a HealthTable; it goes down when they stop', async () => {
  const table = new HealthTable();
  const statusOnArrival: string[] = [];
  const sub = subscriber.subscribe(
    'egress-health',
    (d) => {
      table.update(d.message, Date.now());
      statusOnArrival.push(table.status('edge-hb', Date.now()));
    },
    { id: 'edge-hb' },
  );
  await subscriber.flush();
  const beat = new Heartbeat(publisher, {
    family: 'egress-health',
    id: 'edge-hb',
    intervalMs: 50,
    sample: () => ({ status: 'up', load: 0.5, sessions: 1, capacity: 10 }),
  });
  beat.start();
  // Kept up by each heartbeat as it arrives (not judged after sleeping past a ttl, which a
  // busy machine could overrun).
  await waitFor('three heartbeats', () => statusOnArrival.length >= 3);
  assert.deepEqual(new Set(statusOnArrival), new Set(['up']));
  beat.stop();
  await waitFor('down', () => table.status('edge-hb', Date.now()) === 'down', 5000);
  sub.unsubscribe();
});

test('a client started before the server connects once it appears', async () => {
  const late = await TestNatsServer.create();
  const pending = connectControlPlane({ servers: late.url, reconnectTimeWaitMs: 50 });
  await sleep(150);
  await late.restart();
  const client = await pending;
  assert.equal(client.status, 'connected');
  await client.close();
  await client.close();
  assert.equal(client.status, 'disconnected');
  await late.stop();
});
