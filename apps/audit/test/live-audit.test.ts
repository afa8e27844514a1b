/**
 * The live mode against a deployment it does not run (started apart, on its own loopback
 * addresses, see live-deployment.ts): the harness gets only the settings an auditor holds.
 * A clean deployment has no red cell, and what cannot be seen from outside says so; the same
 * deployment with a leaky egress (it publishes targets on the control plane) is caught, from
 * the auditor account alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTROLS } from '@splitrelay/audit';
import { have, isRoot, leftoversOf, readReport, redCells, runCli, type CliRun } from './helpers.ts';
import { startLiveDeployment, type LiveDeployment } from './live-deployment.ts';

const skip = !isRoot
  ? 'capturing the client link needs root'
  : !have('tcpdump') || !existsSync('/usr/sbin/nats-server')
    ? 'needs tcpdump and nats-server (./run.sh test installs them)'
    : false;

const cellsOf = (run: CliRun) => {
  const report = readReport(run.reportHtml!);
  return {
    report,
    cell: (p: string, q: string) =>
      report.privacyTable.cells.find((c) => c.party === p && c.property === q)!,
  };
};

describe(
  'live mode against a deployment the harness does not run',
  { skip, timeout: 300_000 },
  () => {
    let evidence: string;
    before(() => {
      evidence = mkdtempSync(join(tmpdir(), 'splitrelay-live-audit-'));
    });
    after(() => {
      if (!process.env.SPLITRELAY_AUDIT_KEEP) rmSync(evidence, { recursive: true, force: true });
    });

    describe('a clean deployment', () => {
      let deployment: LiveDeployment;
      let run: CliRun;
      before(async () => {
        deployment = await startLiveDeployment();
        run = await runCli(['live', deployment.settingsFile, '--evidence', evidence, '--quick']);
      });
      after(() => deployment?.stop());

      test('no red cell; what is out of sight cannot be proven; exit 0', () => {
        assert.equal(run.code, 0, `${run.stdout}\n${run.stderr.slice(-3000)}`);
        const { report, cell } = cellsOf(run);
        assert.deepEqual(redCells(report), []);
        assert.equal(report.verdict, 'inconclusive');
        // Proven from outside: the client link in clear, the target, the control plane, TLS it sees.
        for (const id of [
          'client-link-no-target',
          'client-link-no-content',
          'client-resolver-no-target',
          'target-saw-only-egress',
          'target-no-client',
          'control-plane-no-target',
          'control-plane-no-client',
          'tls-client-ingress',
          'tls-client-issuer',
          'tls-inner',
          'egress-knows-target',
          'ingress-knows-client',
        ])
          assert.equal(report.checks.find((c) => c.id === id)?.result, 'pass', id);
        // Out of sight: the relays' insides and the trunk.
        for (const id of [
          'ingress-no-target',
          'egress-no-client',
          'trunk-unobserved',
          'tls-trunk',
          'issuer-not-joinable',
        ])
          assert.equal(
            report.checks.find((c) => c.id === id)?.result,
            'cannot-prove-from-outside',
            id,
          );
        assert.equal(cell('control-plane', 'knows-destination').result, 'pass');
        assert.equal(cell('egress', 'knows-destination').result, 'pass');
        assert.equal(cell('ingress', 'knows-destination').result, 'cannot-prove-from-outside');
        assert.equal(cell('egress', 'knows-source').result, 'cannot-prove-from-outside');
        // And the report says so in words.
        const limits =
          report.notes?.find((n) => n.title === 'Limitations of this evidence')?.items.join(' ') ??
          '';
        assert.match(limits, /cannot be proven from outside/);
        assert.match(limits, /collusion between the operators/);
        assert.match(limits, /timing/);
      });

      test('the harness left nothing running (no client, canary, observer or tcpdump)', () => {
        // The evidence folder is named for the loopback lab that ran the harness's processes.
        const labId = /(sra-[0-9a-f]{6})/.exec(run.reportHtml ?? '')?.[1];
        assert.ok(labId, run.stdout);
        assert.deepEqual(leftoversOf(labId), []);
      });
    });

    describe('the same deployment with a leaky egress', () => {
      let deployment: LiveDeployment;
      let run: CliRun;
      before(async () => {
        deployment = await startLiveDeployment({
          egressPreloads: CONTROLS['publisher-puts-target'].preloads.egress,
        });
        run = await runCli(['live', deployment.settingsFile, '--evidence', evidence, '--quick']);
      });
      after(() => deployment?.stop());

      test('the target on the control plane is caught from the auditor account: red, exit 1', () => {
        assert.equal(run.code, 1, run.stderr.slice(-2000));
        const { report } = cellsOf(run);
        assert.deepEqual(redCells(report), ['control-plane/knows-destination']);
        const check = report.checks.find((c) => c.id === 'control-plane-no-target')!;
        const ev = report.evidence.filter((e) => check.evidence.includes(e.id));
        assert.ok(
          ev.some((e) => e.file.endsWith('messages.jsonl') && /target name/.test(e.note ?? '')),
          JSON.stringify(ev[0]),
        );
      });
    });
  },
);
