/**
 * Starting the run's programs inside their roles: Node programs (the real apps and the
 * harness's own role programs) with their preloads, each awaited until it says it is ready,
 * or until it exits (then its last output is the error).
 */
import { readFileSync } from 'node:fs';
import type { Lab, LabProcess, Role } from '@splitrelay/lab';
import { AuditError } from '../audit-error.ts';

export interface NodeSpawn {
  readonly role: Role;
  readonly name: string;
  readonly script: string;
  readonly args?: readonly string[];
  readonly preloads?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** A line the program prints once it serves. */
  readonly ready: RegExp;
  readonly timeoutMs?: number;
  readonly stdio?: 'pipe';
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    return '';
  }
}

export async function startNode(
  lab: Lab,
  spec: NodeSpawn,
): Promise<{ proc: LabProcess; line: string }> {
  const args = [
    ...(spec.preloads ?? []).flatMap((p) => ['--import', p]),
    spec.script,
    ...(spec.args ?? []),
  ];
  return startProgram(lab, spec, process.execPath, args);
}

export async function startProgram(
  lab: Lab,
  spec: Omit<NodeSpawn, 'script' | 'args' | 'preloads'>,
  command: string,
  args: readonly string[],
): Promise<{ proc: LabProcess; line: string }> {
  const proc = lab.spawn(spec.role, command, args, {
    name: spec.name,
    ...(spec.env ? { env: spec.env } : {}),
    ...(spec.stdio === 'pipe' ? { stdin: 'pipe' as const, stdout: 'pipe' as const } : {}),
  });
  const timeoutMs = spec.timeoutMs ?? 30_000;
  const exited = proc.exited.then((exit) => {
    throw new AuditError(
      'start-failed',
      `${spec.name} (${spec.role}) exited (${exit.code ?? exit.signal}) before it was ready:\n${tail(proc.stderrFile)}\n${tail(proc.stdoutFile)}`,
    );
  });
  try {
    const line = await Promise.race([proc.waitForOutput(spec.ready, { timeoutMs }), exited]);
    return { proc, line };
  } catch (err) {
    await proc.stop(1000).catch(() => undefined);
    if (err instanceof AuditError) throw err;
    throw new AuditError(
      'start-failed',
      `${spec.name} (${spec.role}) was not ready within ${timeoutMs} ms:\n${tail(proc.stderrFile)}\n${tail(proc.stdoutFile)}`,
      { cause: err },
    );
  } finally {
    exited.catch(() => undefined);
  }
}

/** Polls `check` every `everyMs` until it holds; throws `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new AuditError('timeout', `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
