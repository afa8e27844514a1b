/** Shared by this package's tests: keys, waiting, latency figures and the leaked-handle check. */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spentTokenKey } from '../src/index.ts';

// Taken when the test file loads: the runner's own stdio pipes are there from the start.
const baseline = process.getActiveResourcesInfo().sort();

/** Fails if a test left a socket, timer or child process behind. */
export async function assertNoLeakedHandles(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(process.getActiveResourcesInfo().sort(), baseline);
}

/** A key as the ingress makes it: a 32-byte token key id and a 32-byte nonce. */
export function randomTokenKey(): string {
  return spentTokenKey(randomBytes(32), randomBytes(32));
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `op` until it succeeds or `timeoutMs` passed (then throws its last error). */
export async function eventually<T>(
  op: () => Promise<T>,
  timeoutMs: number,
  pauseMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await delay(pauseMs);
    }
  }
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
  const deadline = Date.now() + 5_000;
  for (;;) {
    const states = readdirSync(tasks).map(
      (t) => /\) (\S)/.exec(readFileSync(`${tasks}/${t}/stat`, 'utf8'))?.[1] ?? '?',
    );
    if (states.every((s) => s === 'T' || s === 't')) return;
    if (Date.now() > deadline) throw new Error(`process ${process.pid} did not stop: ${states}`);
    await delay(5);
  }
}
