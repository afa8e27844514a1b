import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { generateOperatorKey, signEntry } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import { EgressView } from '../src/egress-view.ts';

const op = generateOperatorKey();
const keys = { [op.kid]: op.publicKeyPem };
const pin = Buffer.alloc(32, 1).toString('base64');
const T0 = 1_800_000_000_000;

function signed(id: string, notAfterSeconds: number, version = 1) {
  return signEntry(
    {
      v: 1,
      id,
      operator: op.kid,
      endpoint: '127.0.3.1:8443',
      region: 'eu',
      tlsPins: [pin],
      notBefore: 0,
      notAfter: notAfterSeconds,
      version,
    },
    createPrivateKey(op.privateKeyPem),
    op.kid,
  );
}
const heartbeat = (id: string, sentAt: number, status: 'up' | 'draining' = 'up') => ({
  v: 1 as const,
  id,
  status,
  load: 0,
  sessions: 0,
  capacity: 100,
  sentAt,
  ttlMs: 3000,
});

test('admits verified, healthy egresses and refuses the rest with their reasons', () => {
  let now = T0;
  const view = new EgressView(keys, { now: () => now });
  assert.equal(view.applyEntry(signed('egress-1', T0 / 1000 + 3600)).accepted, true);
  assert.equal(view.admit('egress-1').id, 'egress-1', 'no heartbeat yet: static mode admits');
  assert.throws(
    () => view.admit('egress-9'),
    (e: unknown) => e instanceof RelayError && e.code === 'unknown-egress',
  );
  view.connected();
  view.applyHealth(heartbeat('egress-1', now));
  now += 20_000;
  assert.throws(
    () => view.admit('egress-1'),
    (e: unknown) => e instanceof RelayError && e.code === 'egress-down' && e.status === 503,
  );
  view.applyHealth(heartbeat('egress-1', now, 'draining'));
  assert.throws(
    () => view.admit('egress-1'),
    (e: unknown) => e instanceof RelayError && e.code === 'egress-down',
  );
});

test('a tampered entry is refused and never served', () => {
  const view = new EgressView(keys, { now: () => T0 });
  const entry = signed('egress-2', T0 / 1000 + 3600);
  const tampered = {
    ...entry,
    payload: entry.payload.slice(0, -2) + (entry.payload.endsWith('A') ? 'BA' : 'AA'),
  };
  assert.equal(view.applyEntry(tampered).accepted, false);
  assert.equal(view.applyEntry(signed('egress-3', T0 / 1000 - 1)).accepted, false, 'expired');
  assert.deepEqual(view.directoryFile().entries, []);
});

test('fail static: while the control plane is unreachable, silence does not take egresses down', () => {
  let now = T0;
  const view = new EgressView(keys, { now: () => now, graceMs: 5000 });
  view.applyEntry(signed('egress-1', T0 / 1000 + 3600));
  view.connected();
  view.applyHealth(heartbeat('egress-1', now));
  now += 1000;
  view.disconnected();
  assert.equal(view.state, 'stale');
  now += 60_000;
  assert.equal(view.health('egress-1'), 'up');
  view.connected();
  now += 1000;
  assert.equal(view.health('egress-1'), 'up', 'grace after reconnecting');
  now += 10_000;
  assert.equal(view.health('egress-1'), 'down', 'no heartbeat since reconnecting');
  view.applyHealth(heartbeat('egress-1', now));
  assert.equal(view.health('egress-1'), 'up');
});

test('the served directory is the signed entries, unmodified', () => {
  const view = new EgressView(keys, { now: () => T0 });
  const entry = signed('egress-1', T0 / 1000 + 3600);
  view.applyEntry(entry);
  assert.deepEqual(view.directoryFile(), { v: 1, entries: [entry] });
});
