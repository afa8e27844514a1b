/** Shared by this package's tests: keys, waiting, latency figures and the leaked-handle check. */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { eventually } from '@splitrelay/test-kit/eventually';
import { activeResources, assertNoLeakedHandles as noLeaks } from '@splitrelay/test-kit/handles';
import { spentTokenKey } from '../src/index.ts';

// Taken when the test file loads: the runner's own stdio pipes are there from the start.
const baseline = activeResources();

/** Fails if a test left a socket, timer or child process behind. */
export const assertNoLeakedHandles = (): Promise<void> => noLeaks({ baseline });

/** A key as the ingress makes it: a 32-byte token key id and a 32-byte nonce. */
export function randomTokenKey(): string {
  return spentTokenKey(randomBytes(32), randomBytes(32));
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The q-quantile (0..1) of `samples` by nearest rank. */
export function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * SIGSTOP and waits until the kernel reports every thread of the process stopped: a signal
 * sent is not yet a process stopped, and a server thread still running can answer one more
 * request (seen in CI: a claim sent right after kill('SIGSTOP') came back 'fresh').
 */
export async function stopProcess(process: ChildProcess): Promise<void> {
  process.kill('SIGSTOP');
  const tasks = `/proc/${process.pid}/task`;
  const states = (): string[] =>
    readdirSync(tasks).map(
      (t) => /\) (\S)/.exec(readFileSync(`${tasks}/${t}/stat`, 'utf8'))?.[1] ?? '?',
    );
  await eventually(
    () => `process ${process.pid} to stop (thread states ${states()})`,
    () => states().every((s) => s === 'T' || s === 't'),
    { timeoutMs: 5_000, intervalMs: 5 },
  );
}
