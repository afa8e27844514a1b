/**
 * Isolation observed, not assumed: denied subscriptions and publishes come back as permission
 * violations, and an account-wide observer in the other account never records an operator's
 * private subjects. The same observer against a deliberately leaky config does record them,
 * so this check can fail.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  connectAs,
  NATS_CONFIG_DIR,
  startNats,
  watchPermissionErrors,
  type NatsServer,
} from '../src/index.ts';
import { assertNoLeakedHandles, record, settle } from './helpers.ts';
import { observeAccount, type Observed } from './observer.ts';

type Operator = 'ingress' | 'egress';

/**
 * Publishes a private message of `from` and then a control message on a subject that does
 * cross; once the other account recorded the control, returns what it recorded of the
 * private one (nothing, if isolation holds).
 */
async function privateLeaks(server: NatsServer, from: Operator): Promise<Observed[]> {
  const to: Operator = from === 'egress' ? 'ingress' : 'egress';
  const publisher = await connectAs(from, server.url);
  const reader = await connectAs(to, server.url);
  const observer = await observeAccount(reader);
  try {
    const secret = `private-${randomUUID()}`;
    const control = `control-${randomUUID()}`;
    publisher.publish(`splitrelay.private.${from}.x`, secret);
    publisher.publish(`splitrelay.private.${from}.deeper.still`, secret);
    publisher.publish(`splitrelay.health.${from}.x`, control);
    await publisher.flush();
    await observer.waitForPayload(control);
    await settle(publisher, reader);
    return (await observer.messages()).filter((m) => m.data.includes(secret));
  } finally {
    await observer.stop();
    await Promise.all([publisher.close(), reader.close()]);
  }
}

describe('account isolation', () => {
  let server: NatsServer;
  let ingress: NatsConnection;
  let egress: NatsConnection;
  let auditor: NatsConnection;

  before(async () => {
    server = await startNats();
    [ingress, egress, auditor] = await Promise.all([
      connectAs('ingress', server.url),
      connectAs('egress', server.url),
      connectAs('auditor', server.url),
    ]);
  });

  after(async () => {
    await Promise.all([ingress, egress, auditor].map((nc) => nc?.close()));
    await server?.stop();
    await assertNoLeakedHandles();
  });

  const deniedSubscriptions = [
    ['ingress', 'splitrelay.private.egress.>'],
    ['ingress', 'splitrelay.private.egress.x'],
    ['ingress', '>'],
    ['ingress', 'splitrelay.>'],
    ['egress', 'splitrelay.private.ingress.>'],
    ['egress', '>'],
    ['auditor', '>'],
    ['auditor', '$JS.API.>'],
  ] as const;
  for (const [role, subject] of deniedSubscriptions) {
    it(`${role} subscribing to ${subject} is a permission violation`, async () => {
      const nc = { ingress, egress, auditor }[role];
      const violations = watchPermissionErrors(nc);
      const sub = nc.subscribe(subject);
      const err = await violations.waitFor({ operation: 'subscription', subject });
      assert.match(err.message, /Permissions Violation for Subscription/);
      await sub.closed;
      assert.ok(sub.isClosed());
    });
  }

  const deniedPublishes = [
    ['auditor', 'splitrelay.health.egress.x', 'egress'],
    ['auditor', 'splitrelay.health.ingress.x', 'ingress'],
    ['auditor', 'splitrelay.directory.entry.egress-1', 'egress'],
    ['egress', 'splitrelay.health.ingress.x', 'egress'],
    ['egress', 'splitrelay.trunk.ingress-cert.x', 'egress'],
    ['ingress', 'splitrelay.directory.entry.egress-1', 'ingress'],
    ['ingress', 'splitrelay.health.egress.x', 'ingress'],
    // A relay speaks only for its own role: no operator can sign the other's promises in.
    ['egress', 'splitrelay.manifest.ingress.x', 'egress'],
    ['ingress', 'splitrelay.manifest.egress.x', 'ingress'],
    ['auditor', 'splitrelay.manifest.egress.x', 'egress'],
  ] as const;
  for (const [role, subject, reader] of deniedPublishes) {
    it(`${role} publishing on ${subject} is a violation and reaches no one`, async () => {
      const nc = { ingress, egress, auditor }[role];
      // Readers that would see the message if the publish went through.
      const readers = [
        record({ ingress, egress }[reader].subscribe(subject)),
        ...(role === 'auditor' ? [] : [record(auditor.subscribe(subject))]),
      ];
      await settle(ingress, egress, auditor);
      const violations = watchPermissionErrors(nc);
      nc.publish(subject, 'spoofed');
      await violations.waitFor({ operation: 'publish', subject });
      await settle(ingress, egress, auditor);
      for (const r of readers) assert.deepEqual(r.messages, []);
    });
  }

  it('the auditor may publish nothing at all', async () => {
    const violations = watchPermissionErrors(auditor);
    auditor.publish('anything.at.all', 'x');
    await violations.waitFor({ operation: 'publish', subject: 'anything.at.all' });
  });

  it("an operator's private subjects reach its own users", async () => {
    const own = record(ingress.subscribe('splitrelay.private.ingress.>'));
    await ingress.flush();
    ingress.publish('splitrelay.private.ingress.x', 'mine');
    await own.waitFor('splitrelay.private.ingress.x');
  });

  for (const from of ['egress', 'ingress'] as const) {
    it(`nothing in the other account ever records splitrelay.private.${from}.>`, async () => {
      const to = from === 'egress' ? ingress : egress;
      const allowedSubs = (
        from === 'egress'
          ? [
              'splitrelay.private.ingress.>',
              'splitrelay.directory.entry.>',
              'splitrelay.health.egress.>',
            ]
          : [
              'splitrelay.private.egress.>',
              'splitrelay.health.ingress.>',
              'splitrelay.trunk.ingress-cert.>',
            ]
      ).map((s) => record(to.subscribe(s)));
      const audit = record(auditor.subscribe('splitrelay.>'));
      await settle(to, auditor);
      assert.deepEqual(await privateLeaks(server, from), []);
      await settle(to, auditor);
      for (const r of [...allowedSubs, audit]) {
        assert.ok(
          !r.messages.some((m) => m.data.startsWith('private-')),
          JSON.stringify(r.messages),
        );
      }
      // The control message did arrive: the subscriptions were live.
      assert.ok(audit.messages.some((m) => m.subject === `splitrelay.health.${from}.x`));
    });
  }
});

describe('the isolation check against a leaky config (negative control)', () => {
  let dir: string;
  let server: NatsServer;

  before(async () => {
    // The deployment's files, with one extra export and import: EGRESS's private subjects
    // into INGRESS. The check above must catch exactly this kind of mistake.
    dir = await mkdtemp(join(tmpdir(), 'splitrelay-nats-leaky-'));
    await copyFile(join(NATS_CONFIG_DIR, 'single.conf'), join(dir, 'single.conf'));
    const accounts = await readFile(join(NATS_CONFIG_DIR, 'accounts.conf'), 'utf8');
    const exportLine =
      '      { stream: "splitrelay.health.egress.>", accounts: [INGRESS, AUDITOR] }\n';
    const importLine =
      '      { stream: { account: EGRESS, subject: "splitrelay.health.egress.>" } }\n';
    assert.ok(accounts.includes(exportLine) && accounts.includes(importLine));
    const leaky = accounts
      .replace(
        exportLine,
        `${exportLine}      { stream: "splitrelay.private.egress.>", accounts: [INGRESS] }\n`,
      )
      .replace(
        importLine,
        `${importLine}      { stream: { account: EGRESS, subject: "splitrelay.private.egress.>" } }\n`,
      );
    await writeFile(join(dir, 'accounts.conf'), leaky);
    server = await startNats({ configFile: join(dir, 'single.conf') });
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
    await assertNoLeakedHandles();
  });

  it('records the leaked private messages', async () => {
    const leaks = await privateLeaks(server, 'egress');
    assert.deepEqual(leaks.map((m) => m.subject).sort(), [
      'splitrelay.private.egress.deeper.still',
      'splitrelay.private.egress.x',
    ]);
  });
});
