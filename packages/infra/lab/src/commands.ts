/**
 * Running the machine's tools (ip, nft, tcpdump, ss) with a bound on time, and finding them.
 * Asynchronous for the normal path; synchronous twins for the teardown that runs while the
 * process is dying (an 'exit' or uncaught-exception hook cannot await).
 */
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LabError } from './lab-error.ts';

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly input?: string;
  /** Resolve with a non-zero result instead of throwing. */
  readonly allowFailure?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

// root's tools live in sbin, which a harness started from a user shell may not have on PATH.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
const found = new Map<string, string | undefined>();

/** Absolute path of a tool, or undefined when the machine does not have it. */
export function findBinary(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  let path: string | undefined;
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      path = join(dir, name);
      break;
    } catch {
      // not in this directory
    }
  }
  found.set(name, path);
  return path;
}

function requireBinary(name: string): string {
  const path = findBinary(name);
  if (path === undefined) throw new LabError('command-failed', `${name} is not installed`);
  return path;
}

export function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const file = command.includes('/') ? command : requireBinary(command);
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = child.exitCode;
        const signal = child.signalCode;
        const result = { code, signal, stdout, stderr };
        if (err && (err as { killed?: boolean }).killed && signal === 'SIGKILL') {
          reject(
            new LabError('timeout', `${describe(command, args)} took over ${timeoutMs} ms`, {
              cause: err,
            }),
          );
        } else if ((code !== 0 || err) && !options.allowFailure) {
          reject(failure(command, args, result, err ?? undefined));
        } else resolve(result);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export function runSync(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): CommandResult {
  const file = command.includes('/') ? command : requireBinary(command);
  const r = spawnSync(file, [...args], {
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_OUTPUT_BYTES,
    encoding: 'utf8',
    input: options.input,
  });
  const result = {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
  };
  if ((r.error || r.status !== 0) && !options.allowFailure) {
    throw failure(command, args, result, r.error);
  }
  return result;
}

function failure(
  command: string,
  args: readonly string[],
  result: CommandResult,
  cause: Error | undefined,
): LabError {
  const why = result.stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${result.code}`;
  return new LabError('command-failed', `${describe(command, args)} failed: ${why}`, { cause });
}

function describe(command: string, args: readonly string[]): string {
  return [command, ...args].join(' ');
}

/** Sleeps without an event loop, for the synchronous teardown. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
