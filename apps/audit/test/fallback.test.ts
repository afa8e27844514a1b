/**
 * Without root the lab falls back to distinct loopback addresses: the audit still runs the
 * real apps and the whole quick scenario, turns nothing red, and says in words that its
 * evidence is weaker (no namespaces, no enforced reachability, no captures without root).
 * As root the test runs the harness as `nobody`, which is what a non-root auditor gets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN, ROOT, isRoot, readReport, redCells } from './helpers.ts';

const nobody =
  isRoot && spawnSync('id', ['nobody'], { stdio: 'ignore' }).status === 0 ? 'nobody' : undefined;
const skip = !existsSync('/usr/sbin/nats-server')
  ? 'needs nats-server (./run.sh test installs it)'
  : isRoot && !nobody
    ? 'no nobody user to drop to'
    : false;

function runAsNonRoot(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const node = process.execPath;
  const [cmd, argv] = nobody
    ? [
        'su',
        [
          nobody,
          '-s',
          '/bin/sh',
          '-c',
          `cd '${ROOT}' && exec '${node}' '${MAIN}' ${args.map((a) => `'${a}'`).join(' ')}`,
        ],
      ]
    : [node, [MAIN, ...args]];
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(cmd as string, argv as string[], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test(
  'without root: the loopback fallback runs, turns nothing red, and says its evidence is weaker',
  { skip, timeout: 240_000 },
  async () => {
    const evidence = mkdtempSync(join(tmpdir(), 'splitrelay-audit-fallback-'));
    chmodSync(evidence, 0o777);
    try {
      const run = await runAsNonRoot(['lab', '--quick', '--evidence', evidence]);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr.slice(-3000)}`);
      const html = /^REPORT (.+)$/m.exec(run.stdout)?.[1];
      assert.ok(html);
      const report = readReport(html);
      assert.deepEqual(redCells(report), []);
      assert.equal(report.verdict, 'inconclusive');
      assert.equal(report.checks.find((c) => c.id === 'lab-trust-model')?.result, 'not-applicable');
      for (const id of ['client-link-no-target', 'trunk-no-client'])
        assert.equal(
          report.checks.find((c) => c.id === id)?.result,
          'cannot-prove-from-outside',
          id,
        );
      // What a relay decrypted and what the target and the control plane saw are still proven.
      for (const id of [
        'ingress-no-target',
        'egress-no-client',
        'control-plane-no-target',
        'target-saw-only-egress',
        'scenario-https-pages',
      ])
        assert.equal(report.checks.find((c) => c.id === id)?.result, 'pass', id);
      const limits =
        report.notes?.find((n) => n.title === 'Limitations of this evidence')?.items.join('\n') ??
        '';
      assert.match(limits, /evidence is weaker than a namespaced lab's/);
      assert.match(limits, /loopback fallback/);
      assert.match(limits, /no captures|no packet captures/);
      assert.match(
        readReport(html)
          .notes?.map((n) => n.items.join(' '))
          .join(' ') ?? '',
        /not enforced/,
      );
    } finally {
      rmSync(evidence, { recursive: true, force: true });
    }
  },
);
