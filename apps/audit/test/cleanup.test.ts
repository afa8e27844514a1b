/**
 * The harness leaves nothing behind: interrupted by Ctrl-C (SIGINT) or SIGTERM in the middle
 * of its traffic, no namespace, veth, /etc/netns entry or process of its lab is left; killed
 * outright (SIGKILL, which nothing can catch), `splitrelay-audit sweep` removes what it left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { have, isRoot, labIdOf, leftoversOf, runCli } from './helpers.ts';

const skip = !isRoot
  ? 'the namespace lab needs root'
  : !have('tcpdump') || !have('ip') || !existsSync('/usr/sbin/nats-server')
    ? 'needs iproute2, tcpdump and nats-server (./run.sh test installs them)'
    : false;

/** Runs a lab audit and sends `signal` once its traffic has started. */
async function interrupted(
  signal: NodeJS.Signals,
): Promise<{ labId: string; code: number | null; signal: NodeJS.Signals | null; seen: string[] }> {
  const evidence = mkdtempSync(join(tmpdir(), 'splitrelay-audit-cleanup-'));
  try {
    let sent = false;
    let before: string[] = [];
    let labId: string | undefined;
    const run = await runCli(['lab', '--quick', '--evidence', evidence], {
      onLine: (line, child) => {
        labId ??= labIdOf(line);
        if (!sent && labId && /step https-pages/.test(line)) {
          sent = true;
          // Everything is running now: the apps, the captures, the samplers.
          before = leftoversOf(labId);
          child.kill(signal);
        }
      },
    });
    assert.ok(sent && labId, run.stderr.slice(-2000));
    return { labId, code: run.code, signal: run.signal, seen: before };
  } finally {
    rmSync(evidence, { recursive: true, force: true });
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(
    `interrupted by ${signal} during its traffic, it leaves nothing`,
    { skip, timeout: 120_000 },
    async () => {
      const r = await interrupted(signal);
      assert.ok(
        r.seen.some((l) => l.startsWith('netns')),
        'the lab was up when the signal came',
      );
      assert.ok(
        r.seen.some((l) => l.startsWith('process')),
        'its processes were running',
      );
      assert.ok(r.signal === signal || r.code !== 0, `it stopped (${r.code ?? r.signal})`);
      assert.deepEqual(leftoversOf(r.labId), []);
    },
  );
}

test(
  'killed outright, what it left is removed by `splitrelay-audit sweep`',
  { skip, timeout: 120_000 },
  async () => {
    const r = await interrupted('SIGKILL');
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(leftoversOf(r.labId).length > 0, 'a SIGKILL leaves the lab behind');
    const sweep = await runCli(['sweep'], { timeoutMs: 60_000 });
    assert.equal(sweep.code, 0, sweep.stderr);
    assert.match(sweep.stderr, new RegExp(`${r.labId}: orphan`));
    assert.deepEqual(leftoversOf(r.labId), []);
  },
);
