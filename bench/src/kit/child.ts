/**
 * Starts a helper process and waits for its JSON `ready` line. With `fdLimit` the process is
 * exec'd through bash after `ulimit -n` (Node cannot raise its own limit), so its pid is
 * still the program's. Only the last lines are kept, for error messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  readonly ready: Readonly<Record<string, unknown>>;
  tail(): string[];
  /** SIGTERM, then SIGKILL after 3 s. */
  stop(): Promise<void>;
}

export interface ChildOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly fdLimit?: number;
  /** When to call the process ready; a JSON line with event "ready" by default. */
  readonly isReady?: (line: string) => Record<string, unknown> | undefined;
}

const KEEP_LINES = 200;

function jsonReady(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    return record.event === 'ready' || record.msg === 'ready' ? record : undefined;
  } catch {
    return undefined;
  }
}

export async function startChild(
  name: string,
  command: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<Child> {
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
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const lines: string[] = [];
  const isReady = options.isReady ?? jsonReady;
  let resolveReady: (r: Record<string, unknown>) => void = () => {};
  const readyPromise = new Promise<Record<string, unknown>>((r) => (resolveReady = r));
  const onLine = (line: string): void => {
    lines.push(line);
    if (lines.length > KEEP_LINES) lines.shift();
    const ready = isReady(line);
    if (ready) resolveReady(ready);
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  child.stdin.on('error', () => {});
  const exited = once(child, 'exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  try {
    const ready = await Promise.race([
      readyPromise,
      exited.then(([code, signal]) => {
        throw new Error(
          `${name} exited (${String(code ?? signal)}) before ready:\n${lines.join('\n')}`,
        );
      }),
    ]);
    return {
      name,
      process: child,
      pid: child.pid as number,
      ready,
      tail: () => [...lines],
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(kill);
      },
    };
  } finally {
    clearTimeout(timer);
  }
}
