import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { signEntry } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import {
  Announcer,
  Heartbeat,
  schemaFor,
  type ControlPlanePublisher,
  type Family,
  type MessageOf,
} from '../src/index.ts';
import { NOW_MS, entryFor, operator } from './fixtures.ts';

/** Checks every message like the real client, and records it. */
class FakeClient implements ControlPlanePublisher {
  status: 'connected' | 'disconnected' = 'connected';
  readonly sent: Array<{ family: Family; id: string; message: unknown }> = [];
  readonly listeners = new Set<(s: 'connected' | 'disconnected') => void>();

  publish<F extends Family>(family: F, id: string, message: MessageOf<F>): void {
    const parsed = schemaFor(family).safeParse(message);
    if (!parsed.success) throw new RelayError('internal', 'control message fails its schema');
    this.sent.push({ family, id, message: parsed.data });
  }

  onStatusChange(listener: (s: 'connected' | 'disconnected') => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(state: 'connected' | 'disconnected'): void {
    this.status = state;
    for (const l of this.listeners) l(state);
  }
}

const sample = () => ({ status: 'up' as const, load: 1 / 3, sessions: 7, capacity: 100 });

test('a heartbeat is sent at start with ttl = 3 intervals and a quantized load', () => {
  const client = new FakeClient();
  const beat = new Heartbeat(client, {
    family: 'egress-health',
    id: 'edge-fra-1',
    intervalMs: 1000,
    sample,
    now: () => NOW_MS + 0.7,
  });
  beat.start();
  beat.stop();
  assert.equal(beat.ttlMs, 3000);
  assert.deepEqual(client.sent, [
    {
      family: 'egress-health',
      id: 'edge-fra-1',
      message: {
        v: 1,
        id: 'edge-fra-1',
        status: 'up',
        load: 0.333,
        sessions: 7,
        capacity: 100,
        sentAt: NOW_MS,
        ttlMs: 3000,
      },
    },
  ]);
});

test('heartbeats repeat every interval and stop on stop()', { timeout: 10_000 }, async () => {
  const client = new FakeClient();
  const INTERVAL_MS = 20;
  const beat = new Heartbeat(client, {
    family: 'ingress-health',
    id: 'ingress-1',
    intervalMs: INTERVAL_MS,
    sample,
  });
  const t0 = performance.now();
  beat.start();
  beat.start(); // idempotent
  // Counted, not timed: a busy machine delays the timer, it cannot hurry it.
  while (client.sent.length < 3) await sleep(5);
  const elapsed = performance.now() - t0;
  beat.stop();
  const count = client.sent.length;
  // One at start, one per interval after: the third needs two intervals (a second timer from
  // the repeated start() would bring it sooner).
  assert.ok(elapsed >= 2 * INTERVAL_MS - 2, `three heartbeats after ${elapsed} ms`);
  assert.equal(beat.published, count);
  assert.equal(beat.running, false);
  assert.equal(client.listeners.size, 0);
  // Nothing legitimate can follow a stop, so waiting here can only prove, never flake.
  await sleep(5 * INTERVAL_MS);
  assert.equal(client.sent.length, count);
});

test('no heartbeat while disconnected; one at once on reconnect', async () => {
  const client = new FakeClient();
  const beat = new Heartbeat(client, {
    family: 'egress-health',
    id: 'edge-fra-1',
    intervalMs: 1000,
    sample,
  });
  beat.start();
  assert.equal(client.sent.length, 1);
  client.set('disconnected');
  beat.beat();
  assert.equal(client.sent.length, 1);
  client.set('connected');
  assert.equal(client.sent.length, 2);
  beat.stop();
  client.set('disconnected');
  client.set('connected');
  assert.equal(client.sent.length, 2);
});

test('a publish that fails goes to onError, or is thrown without it', () => {
  const client = new FakeClient();
  const errors: unknown[] = [];
  const bad = () => ({ status: 'up' as const, load: 0.5, sessions: -1, capacity: 1 });
  const beat = new Heartbeat(client, {
    family: 'egress-health',
    id: 'edge-fra-1',
    intervalMs: 1000,
    sample: bad,
    onError: (err) => errors.push(err),
  });
  beat.beat();
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof RelayError);
  const loud = new Heartbeat(client, {
    family: 'egress-health',
    id: 'edge-fra-1',
    intervalMs: 1000,
    sample: bad,
  });
  assert.throws(() => loud.beat(), RelayError);
  assert.equal(client.sent.length, 0);
  assert.throws(
    () => new Heartbeat(client, { family: 'egress-health', id: 'x', intervalMs: 0, sample }),
    TypeError,
  );
});

test('an Announcer republishes the current signed entry', () => {
  const op = operator();
  const client = new FakeClient();
  let version = 1;
  const announcer = new Announcer(client, {
    family: 'directory',
    id: 'edge-fra-1',
    intervalMs: 60_000,
    message: () => signEntry(entryFor(op.kid, { version }), op.privateKey, op.kid),
  });
  announcer.start();
  version = 2;
  client.set('disconnected');
  client.set('connected');
  announcer.stop();
  assert.equal(client.sent.length, 2);
  assert.equal(announcer.published, 2);
  assert.notDeepEqual(client.sent[0]?.message, client.sent[1]?.message);
});
