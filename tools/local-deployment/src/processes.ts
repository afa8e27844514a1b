/**
 * Starts the real apps as child processes and waits for their `ready` log line. Every JSON
 * log line is kept (tests assert on what each relay logged) and optionally appended to a file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export type AppName = 'ingress' | 'egress' | 'client' | 'issuer';

export interface RunningApp {
  readonly name: AppName;
  readonly process: ChildProcess;
  /** The `ready` log record. */
  readonly ready: Readonly<Record<string, unknown>>;
  /** Every stdout and stderr line so far, in order. */
  readonly lines: string[];
  /** The first log record with this `event`, already logged or still to come. */
  waitFor(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

const appMain = (name: AppName): string =>
  fileURLToPath(new URL(`../../../apps/${name}/src/main.js`, import.meta.url));

export async function startApp(
  name: AppName,
  configFile: string,
  options: {
    logFile?: string;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    nodeArgs?: readonly string[];
    /** Entry file instead of the app's sources, e.g. the client bundle (apps/client/dist). */
    main?: string;
  } = {},
): Promise<RunningApp> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), options.main ?? appMain(name), '--config', configFile],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    },
  );
  const lines: string[] = [];
  const log: WriteStream | undefined = options.logFile
    ? createWriteStream(options.logFile, { flags: 'a' })
    : undefined;
  const seen: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const onLine = (line: string): void => {
    lines.push(line);
    log?.write(`${line}\n`);
    if (line.startsWith('{')) {
      try {
        seen.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log record (e.g. a stack trace line); kept in `lines` all the same.
      }
      for (const wake of [...waiters]) wake();
    }
  };
  const waitFor = (event: string, timeoutMs = 15_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = seen.find((r) => r.event === event);
        if (found === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${name} logged no "${event}" within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      waiters.add(check);
      check();
    });
  const readyPromise = waitFor('ready', options.timeoutMs ?? 15_000);
  readyPromise.catch(() => {});
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = once(child, 'exit');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const ready = await Promise.race([
    readyPromise,
    exited.then(([code]) => {
      throw new Error(`${name} exited with ${String(code)} before ready:\n${lines.join('\n')}`);
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    name,
    process: child,
    ready,
    lines,
    waitFor,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      await new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));
    },
  };
}

/** Log records (parsed JSON lines) of a running app. */
export function records(app: RunningApp): Record<string, unknown>[] {
  return app.lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Runs a relay's own sign-manifest tool on its config file with its operator's key, as the
 * operator would before starting it (apps/<app>/src/sign-manifest.ts).
 */
export function signManifest(app: 'egress' | 'ingress', configFile: string, key: string): void {
  const tool = fileURLToPath(new URL(`../../../apps/${app}/src/sign-manifest.ts`, import.meta.url));
  const res = spawnSync(
    process.execPath,
    [tool, '--config', configFile, '--key', key, '--days', '7'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (res.status !== 0) throw new Error(`sign-manifest (${app}) failed: ${res.stderr}`);
}
