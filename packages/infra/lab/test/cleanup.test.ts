/**
 * Cleanup that always happens: a harness that is signalled, that throws, that exits without
 * destroying, or that is SIGKILLed (then the sweep, as a function and as the CLI) leaves nothing
 * of its lab behind. Each case runs a real harness in a child process (fixtures/harness.ts).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createLab, sweepLabs } from '../src/index.ts';
import { readManifest } from '../src/manifest.ts';
import { isAlive } from '../src/proc.ts';
import {
  leftoversOf,
  markedProcesses,
  namespacesOf,
  netnsUnavailable,
  readPcap,
  tcpdumpUnavailable,
} from './helpers.ts';

const HARNESS = fileURLToPath(new URL('./fixtures/harness.ts', import.meta.url));
const SWEEP = fileURLToPath(new URL('../src/sweep.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lab-cleanup-'));
const children = new Set<ChildProcess>();
const ids = new Set<string>();
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  // Whatever a failed case left, the sweep takes (only orphans: these harnesses are dead).
  if (ids.size > 0) await sweepLabs();
  rmSync(root, { recursive: true, force: true });
});

interface Started {
  readonly child: ChildProcess;
  readonly info: { id: string; runDir: string; pids: number[]; pcap: string };
  readonly stderr: string[];
}

async function startHarness(behaviour: 'wait' | 'throw' | 'return'): Promise<Started> {
  const child = spawn(process.execPath, [HARNESS, root, behaviour], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error(`harness exited early:\n${stderr.join('\n')}`);
    }),
  ])) as [string];
  clearTimeout(timer);
  const info = JSON.parse(line) as Started['info'];
  ids.add(info.id);
  return { child, info, stderr };
}

async function exitOf(
  child: ChildProcess,
  timeoutMs = 20_000,
): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return { code: child.exitCode, signal: child.signalCode };
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  return { code, signal };
}

/**
 * The harness's processes run: the forker and the sleep it forked, the sleep that setsid moved
 * into a session of its own (setsid forks, so the pid the harness saw is already gone), tcpdump.
 */
function assertRunning(info: Started['info']): void {
  assert.equal(namespacesOf(info.id).length, 8);
  assert.ok(isAlive({ pid: info.pids[0]!, startTime: undefined }), 'the forker runs');
  assert.equal(markedProcesses(info.id).length, 4, 'forker, its child, the escaped sleep, tcpdump');
}

function assertPcapFlushed(file: string): void {
  const pcap = readPcap(file);
  assert.equal(pcap.linktype, 1);
}

const skip = netnsUnavailable() ?? tcpdumpUnavailable();

describe('cleanup', { skip, timeout: 180_000 }, () => {
  test('SIGINT: the harness cleans up by itself and dies of the signal', async () => {
    const { child, info } = await startHarness('wait');
    assertRunning(info);
    child.kill('SIGINT');
    const exit = await exitOf(child);
    assert.equal(exit.signal, 'SIGINT');
    assert.deepEqual(leftoversOf(info.id), []);
    const records = readManifest(join(info.runDir, 'manifest.jsonl'));
    assert.equal(records.at(-1)?.t, 'destroyed');
    assertPcapFlushed(info.pcap);
  });

  test('SIGTERM does the same', async () => {
    const { child, info } = await startHarness('wait');
    child.kill('SIGTERM');
    assert.equal((await exitOf(child)).signal, 'SIGTERM');
    assert.deepEqual(leftoversOf(info.id), []);
  });

  test('an uncaught exception: torn down, then Node reports it and exits 1', async () => {
    const { child, info, stderr } = await startHarness('throw');
    const exit = await exitOf(child);
    assert.equal(exit.code, 1);
    assert.ok(stderr.join('\n').includes('harness failure on purpose'), stderr.join('\n'));
    assert.deepEqual(leftoversOf(info.id), []);
    assertPcapFlushed(info.pcap);
  });

  test('process.exit() without destroy(): the exit hook tears down', async () => {
    const { child, info } = await startHarness('return');
    assert.equal((await exitOf(child)).code, 0);
    assert.deepEqual(leftoversOf(info.id), []);
  });

  test('SIGKILL leaves the lab; sweepLabs() removes all of it and leaves a live lab alone', async () => {
    const live = await createLab({ evidenceRoot: root, mode: 'netns', exitHooks: false });
    try {
      const { child, info } = await startHarness('wait');
      child.kill('SIGKILL');
      await exitOf(child);
      // Nothing could run in the harness: everything it made is still there.
      assertRunning(info);
      const report = await sweepLabs();
      const swept = report.labs.find((l) => l.id === info.id);
      assert.equal(swept?.state, 'orphan');
      assert.ok((swept?.cleanup?.processesEnded ?? 0) >= 4);
      assert.deepEqual(report.leftovers, []);
      assert.deepEqual(leftoversOf(info.id), []);
      assert.equal(readManifest(join(info.runDir, 'manifest.jsonl')).at(-1)?.t, 'swept');
      assertPcapFlushed(info.pcap);
      assert.equal(report.labs.find((l) => l.id === live.id)?.state, 'live');
      assert.equal(namespacesOf(live.id).length, 8, 'the live lab was left alone');
    } finally {
      await live.destroy();
    }
    assert.deepEqual(leftoversOf(live.id), []);
  });

  test('SIGKILL, then the CLI: node packages/infra/lab/src/sweep.ts', async () => {
    const { child, info } = await startHarness('wait');
    child.kill('SIGKILL');
    await exitOf(child);
    assertRunning(info);
    const dry = spawn(process.execPath, [SWEEP, '--dry-run'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let dryOut = '';
    dry.stdout!.on('data', (d: Buffer) => (dryOut += d));
    assert.equal((await exitOf(dry)).code, 0);
    assert.match(dryOut, new RegExp(`${info.id}: orphan, would be removed`));
    assertRunning(info);
    const cli = spawn(process.execPath, [SWEEP], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    cli.stdout!.on('data', (d: Buffer) => (out += d));
    assert.equal((await exitOf(cli)).code, 0, out);
    assert.match(out, new RegExp(`${info.id}: swept \\(\\d+ processes, 8 namespaces`));
    assert.deepEqual(leftoversOf(info.id), []);
  });
});
