/**
 * What crosses between the operators' accounts: the six families of docs/control-plane.md reach
 * the other operator and the auditor, and the running server reports exactly those
 * exports and imports.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectAs, startNats, type NatsServer } from '../src/index.ts';
import { assertNoLeakedHandles, record } from './helpers.ts';

describe('subjects that cross accounts', () => {
  let server: NatsServer;
  let ingress: NatsConnection;
  let egress: NatsConnection;
  let auditor: NatsConnection;
  let sys: NatsConnection;

  before(async () => {
    server = await startNats();
    [ingress, egress, auditor, sys] = await Promise.all([
      connectAs('ingress', server.url),
      connectAs('egress', server.url),
      connectAs('auditor', server.url),
      connectAs('sys', server.url),
    ]);
  });

  after(async () => {
    await Promise.all([ingress, egress, auditor, sys].map((nc) => nc?.close()));
    await server?.stop();
    await assertNoLeakedHandles();
  });

  const families = [
    { subject: 'splitrelay.directory.entry.egress-1', from: 'egress', to: 'ingress' },
    { subject: 'splitrelay.health.egress.x', from: 'egress', to: 'ingress' },
    { subject: 'splitrelay.health.ingress.x', from: 'ingress', to: 'egress' },
    { subject: 'splitrelay.trunk.ingress-cert.x', from: 'ingress', to: 'egress' },
    { subject: 'splitrelay.manifest.egress.egress-1', from: 'egress', to: 'ingress' },
    { subject: 'splitrelay.manifest.ingress.x', from: 'ingress', to: 'egress' },
  ] as const;

  for (const { subject, from, to } of families) {
    it(`${subject}: ${from} → ${to} and auditor`, async () => {
      const conns = { ingress, egress };
      const reader = record(conns[to].subscribe(subject.replace(/[^.]+$/, '>')));
      const audit = record(auditor.subscribe('splitrelay.>'));
      await Promise.all([conns[to].flush(), auditor.flush()]);
      conns[from].publish(subject, JSON.stringify({ v: 1 }));
      await Promise.all([reader.waitFor(subject), audit.waitFor(subject)]);
      assert.deepEqual(reader.messages, [{ subject, data: '{"v":1}' }]);
      assert.deepEqual(audit.messages, [{ subject, data: '{"v":1}' }]);
      reader.stop();
      audit.stop();
    });
  }

  it('the running server exports and imports exactly the six families', async () => {
    const info = async (account: string): Promise<AccountInfo> => {
      const reply = await sys.request(`$SYS.REQ.ACCOUNT.${account}.INFO`, '', { timeout: 3_000 });
      return (reply.json() as { data: AccountInfo }).data;
    };
    // Sorted: the server lists them in map order.
    const streams = (a: AccountInfo): Record<string, unknown>[] =>
      sortedByJson([
        ...(a.exports ?? [])
          .filter((e) => e.type === 'stream')
          .map((e) => ({ export: e.subject, to: [...(e.approved_accounts ?? [])].sort() })),
        ...(a.imports ?? [])
          .filter((i) => i.type === 'stream')
          .map((i) => ({ import: i.subject, from: i.account, as: i.local_subject })),
      ]);
    const ingressToOthers = ['AUDITOR', 'EGRESS'];
    const fromEgress = (subject: string) => ({ import: subject, from: 'EGRESS', as: subject });
    const fromIngress = (subject: string) => ({ import: subject, from: 'INGRESS', as: subject });
    assert.deepEqual(
      streams(await info('INGRESS')),
      sortedByJson([
        { export: 'splitrelay.health.ingress.>', to: ingressToOthers },
        { export: 'splitrelay.trunk.ingress-cert.>', to: ingressToOthers },
        { export: 'splitrelay.manifest.ingress.>', to: ingressToOthers },
        fromEgress('splitrelay.directory.entry.>'),
        fromEgress('splitrelay.health.egress.>'),
        fromEgress('splitrelay.manifest.egress.>'),
      ]),
    );
    assert.deepEqual(
      streams(await info('EGRESS')),
      sortedByJson([
        { export: 'splitrelay.directory.entry.>', to: ['AUDITOR', 'INGRESS'] },
        { export: 'splitrelay.health.egress.>', to: ['AUDITOR', 'INGRESS'] },
        { export: 'splitrelay.manifest.egress.>', to: ['AUDITOR', 'INGRESS'] },
        fromIngress('splitrelay.health.ingress.>'),
        fromIngress('splitrelay.trunk.ingress-cert.>'),
        fromIngress('splitrelay.manifest.ingress.>'),
      ]),
    );
    assert.deepEqual(
      streams(await info('AUDITOR')),
      sortedByJson([
        fromEgress('splitrelay.directory.entry.>'),
        fromEgress('splitrelay.health.egress.>'),
        fromIngress('splitrelay.health.ingress.>'),
        fromIngress('splitrelay.trunk.ingress-cert.>'),
        fromEgress('splitrelay.manifest.egress.>'),
        fromIngress('splitrelay.manifest.ingress.>'),
      ]),
    );
    // Service imports are the server's own plumbing ($JS.API, $SYS account requests), from SYS.
    for (const account of ['INGRESS', 'EGRESS', 'AUDITOR']) {
      const a = await info(account);
      const services = (a.imports ?? []).filter((i) => i.type !== 'stream');
      assert.deepEqual(
        [...new Set(services.map((i) => i.account))].filter((x) => x),
        ['SYS'],
      );
      assert.ok(
        !(a.exports ?? []).some((e) => e.type !== 'stream'),
        `${account} exports a service`,
      );
    }
  });
});

interface AccountInfo {
  readonly exports?: { subject: string; type: string; approved_accounts?: string[] }[];
  readonly imports?: { subject: string; account?: string; local_subject?: string; type: string }[];
}

function sortedByJson<T>(items: T[]): T[] {
  return items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
