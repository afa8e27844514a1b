/**
 * The one way the demo, the tests and the bench start a helper process: the real apps
 * (apps.ts), and whatever else a run needs (the bench's target, session holder, sshd and ssh,
 * the tests' dnsmasq).
 * Every output line is kept (tests assert on what each relay logged), or only the last ones
 * for long runs; JSON lines are also kept as records, so a caller can wait for an event.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { treeUserSystem } from './proc-stats.ts';

export type LogRecord = Record<string, unknown>;

export interface ProcessOptions {
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Raise the open-files limit to this before the program starts (the hard limit when that is
   * lower). Node cannot raise its own, so the program is exec'd by bash after `ulimit -n`, and
   * its pid is still the program's.
   */
  readonly fdLimit?: number;
  /** Keep only the last this many lines and records (long bench runs); all by default. */
  readonly keepLines?: number;
  /** Also append every line to this file. */
  readonly logFile?: string;
  /** A writable stdin (the bench's session holder takes commands on it); none by default. */
  readonly stdin?: boolean;
}

export interface StartOptions extends ProcessOptions {
  /** How long the process may take to be ready, in ms (15 s by default); killed past it. */
  readonly timeoutMs?: number;
  /** When it is ready, and its ready record: by default its first JSON line with event "ready". */
  readonly isReady?: (line: string) => LogRecord | undefined;
}

export interface RunningProcess {
  readonly name: string;
  readonly process: ChildProcess;
  /** The program's pid (-1 if it could not be spawned). */
  readonly pid: number;
  /** Every stdout and stderr line so far, in order (the last `keepLines` with that option). */
  readonly lines: string[];
  /** Calls `listener` with every line from now on; returns how to stop. */
  onLine(listener: (line: string) => void): () => void;
  /** The first log record with this `event`, already logged or still to come. */
  waitFor(event: string, timeoutMs?: number): Promise<LogRecord>;
  /** User and system CPU seconds of its process tree so far, from /proc. */
  cpu(): { user: number; system: number };
  /** SIGTERM, then SIGKILL after 3 s; resolves once it exited (at once if it already had). */
  stop(): Promise<void>;
}

export interface StartedProcess extends RunningProcess {
  /** The ready record (see `isReady`). */
  readonly ready: Readonly<LogRecord>;
}

function parseRecord(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    // Not a log record (e.g. a stack trace line); kept in `lines` all the same.
    return undefined;
  }
}

const readyEvent = (line: string): LogRecord | undefined => {
  const record = parseRecord(line);
  return record?.event === 'ready' ? record : undefined;
};

/** Starts a process without waiting for anything (a cold start polls its port instead). */
export function spawnProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: ProcessOptions = {},
): RunningProcess {
  const [cmd, argv] =
    options.fdLimit === undefined
      ? [command, args]
      : [
          'bash',
          [
            '-c',
            'ulimit -n "$0" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"',
            String(options.fdLimit),
            command,
            ...args,
          ],
        ];
  const child = spawn(cmd, argv, {
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const lines: string[] = [];
  const records: LogRecord[] = [];
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    // A program that cannot be spawned emits 'error' and maybe never 'exit'.
    child.once('error', (err) => {
      lines.push(`spawn failed: ${err.message}`);
      resolve();
    });
  });
  child.stdin?.on('error', () => {});
  const log: WriteStream | undefined = options.logFile
    ? createWriteStream(options.logFile, { flags: 'a' })
    : undefined;
  const listeners = new Set<(line: string) => void>();
  const keep = <T>(list: T[], item: T): void => {
    list.push(item);
    if (options.keepLines !== undefined && list.length > options.keepLines) list.shift();
  };
  const onLine = (line: string): void => {
    keep(lines, line);
    log?.write(`${line}\n`);
    const record = parseRecord(line);
    if (record) keep(records, record);
    for (const listener of [...listeners]) listener(line);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const pid = child.pid ?? -1;
  return {
    name,
    process: child,
    pid,
    lines,
    onLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor: (event, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = records.find((r) => r.event === event);
          if (found === undefined) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${name} logged no "${event}" within ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
        listeners.add(check);
        check();
      }),
    cpu: () => treeUserSystem([pid]),
    async stop() {
      if (child.exitCode === null && child.signalCode === null && pid !== -1) {
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(kill);
      }
      await new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));
    },
  };
}

/** Starts a process and waits until it is ready (see `isReady`); kills it if it never is. */
export async function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: StartOptions = {},
): Promise<StartedProcess> {
  const running = spawnProcess(name, command, args, options);
  const child = running.process;
  const isReady = options.isReady ?? readyEvent;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const cleanups: (() => void)[] = [];
  try {
    const ready = await new Promise<LogRecord>((resolve, reject) => {
      cleanups.push(
        running.onLine((line) => {
          const record = isReady(line);
          if (record) resolve(record);
        }),
      );
      // 'close' comes after the last output line was read, so the error shows all of it.
      const early = (): void =>
        reject(
          new Error(
            `${name} exited (${String(child.exitCode ?? child.signalCode)}) before ready:\n${running.lines.join('\n')}`,
          ),
        );
      child.once('close', early);
      child.once('error', early);
      cleanups.push(() => child.off('close', early).off('error', early));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(`${name} was not ready within ${timeoutMs} ms:\n${running.lines.join('\n')}`),
        );
      }, timeoutMs);
      cleanups.push(() => clearTimeout(timer));
    });
    return { ...running, ready };
  } catch (err) {
    await running.stop();
    throw err;
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}
