import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HealthTable, DEFAULT_MAX_TTL_MS } from '../src/index.ts';
import { NOW_MS, healthFor } from './fixtures.ts';

test('an unknown peer is unknown; a heartbeat makes it up until its ttl passes, then down', () => {
  const table = new HealthTable();
  assert.equal(table.status('edge-fra-1', NOW_MS), 'unknown');
  assert.equal(table.update(healthFor({ ttlMs: 3000 }), NOW_MS), true);
  assert.equal(table.status('edge-fra-1', NOW_MS), 'up');
  assert.equal(table.status('edge-fra-1', NOW_MS + 2999), 'up');
  assert.equal(table.status('edge-fra-1', NOW_MS + 3000), 'down');
  assert.equal(table.status('other', NOW_MS), 'unknown');
});

test('draining is reported as sent, until it expires too', () => {
  const table = new HealthTable();
  table.update(healthFor({ status: 'draining' }), NOW_MS);
  assert.equal(table.status('edge-fra-1', NOW_MS + 1), 'draining');
  assert.equal(table.status('edge-fra-1', NOW_MS + 3000), 'down');
});

test('expiry runs on the receiver clock, so a sender clock far off does not matter', () => {
  const table = new HealthTable();
  table.update(healthFor({ sentAt: NOW_MS - 86_400_000 }), NOW_MS);
  assert.equal(table.status('edge-fra-1', NOW_MS + 1000), 'up');
  const view = table.get('edge-fra-1', NOW_MS);
  assert.equal(view?.receivedAtMs, NOW_MS);
  assert.equal(view?.expiresAtMs, NOW_MS + 3000);
});

test('an older or equal sentAt is ignored while the newer one is alive', () => {
  const table = new HealthTable();
  table.update(healthFor({ sentAt: NOW_MS, load: 0.5 }), NOW_MS);
  assert.equal(
    table.update(healthFor({ sentAt: NOW_MS - 1, status: 'draining' }), NOW_MS + 10),
    false,
  );
  assert.equal(table.update(healthFor({ sentAt: NOW_MS, load: 0.9 }), NOW_MS + 10), false);
  assert.equal(table.status('edge-fra-1', NOW_MS + 10), 'up');
  assert.equal(table.get('edge-fra-1', NOW_MS + 10)?.load, 0.5);
  // An older one cannot extend the life of the newer either.
  assert.equal(table.status('edge-fra-1', NOW_MS + 3000), 'down');
  assert.equal(table.update(healthFor({ sentAt: NOW_MS + 1000, load: 0.9 }), NOW_MS + 1000), true);
  assert.equal(table.get('edge-fra-1', NOW_MS + 1000)?.load, 0.9);
});

test('after expiry any heartbeat is taken, so a sender whose clock went back recovers', () => {
  const table = new HealthTable();
  table.update(healthFor({ sentAt: NOW_MS + 3_600_000 }), NOW_MS);
  assert.equal(table.update(healthFor({ sentAt: NOW_MS }), NOW_MS + 1000), false);
  assert.equal(table.update(healthFor({ sentAt: NOW_MS }), NOW_MS + 3000), true);
  assert.equal(table.status('edge-fra-1', NOW_MS + 3000), 'up');
});

test('a claimed ttl is clamped to the table bounds', () => {
  const table = new HealthTable({ minTtlMs: 500, maxTtlMs: 10_000 });
  table.update(healthFor({ ttlMs: 3_600_000 }), NOW_MS);
  assert.equal(table.status('edge-fra-1', NOW_MS + 9_999), 'up');
  assert.equal(table.status('edge-fra-1', NOW_MS + 10_000), 'down');
  table.update(healthFor({ id: 'tiny', ttlMs: 1 }), NOW_MS);
  assert.equal(table.status('tiny', NOW_MS + 499), 'up');
  assert.equal(table.status('tiny', NOW_MS + 500), 'down');
  const defaults = new HealthTable();
  defaults.update(healthFor({ ttlMs: 3_600_000 }), NOW_MS);
  assert.equal(defaults.status('edge-fra-1', NOW_MS + DEFAULT_MAX_TTL_MS), 'down');
  assert.throws(() => new HealthTable({ minTtlMs: 10, maxTtlMs: 5 }), TypeError);
  assert.throws(() => table.status('x', Number.NaN), TypeError);
});

test('snapshot lists every peer by id with its status at that time', () => {
  const table = new HealthTable();
  table.update(healthFor({ id: 'edge-b', ttlMs: 1000, sessions: 3 }), NOW_MS);
  table.update(healthFor({ id: 'edge-a', ttlMs: 5000, status: 'draining' }), NOW_MS);
  assert.deepEqual(
    table.snapshot(NOW_MS + 2000).map((v) => [v.id, v.status, v.sessions]),
    [
      ['edge-a', 'draining', 10],
      ['edge-b', 'down', 3],
    ],
  );
  assert.equal(table.size, 2);
});

test('prune forgets peers down for longer than the grace', () => {
  const table = new HealthTable();
  table.update(healthFor({ id: 'edge-a', ttlMs: 1000 }), NOW_MS);
  table.update(healthFor({ id: 'edge-b', ttlMs: 5000 }), NOW_MS);
  assert.deepEqual(table.prune(NOW_MS + 1500, 1000), []);
  assert.deepEqual(table.prune(NOW_MS + 2000, 1000), ['edge-a']);
  assert.equal(table.status('edge-a', NOW_MS + 2000), 'unknown');
  assert.equal(table.status('edge-b', NOW_MS + 2000), 'up');
});

test('model: status is the newest-sentAt heartbeat while alive (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          dt: fc.nat(2000),
          sentAt: fc.nat(10_000),
          ttl: fc.integer({ min: 1, max: 4000 }),
        }),
        { maxLength: 30 },
      ),
      fc.nat(6000),
      (beats, probe) => {
        const table = new HealthTable();
        let now = NOW_MS;
        let held: { sentAt: number; expires: number } | undefined;
        for (const b of beats) {
          now += b.dt;
          const accepted = table.update(healthFor({ sentAt: b.sentAt, ttlMs: b.ttl }), now);
          const expect = held === undefined || now >= held.expires || b.sentAt > held.sentAt;
          assert.equal(accepted, expect);
          if (expect) held = { sentAt: b.sentAt, expires: now + b.ttl };
        }
        const at = now + probe;
        const want = held === undefined ? 'unknown' : at >= held.expires ? 'down' : 'up';
        assert.equal(table.status('edge-fra-1', at), want);
      },
    ),
  );
});
