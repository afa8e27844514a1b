/** A process started without waiting for any output (cold starts poll its port instead). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface PlainProcess {
  readonly process: ChildProcess;
  readonly pid: number;
  output(): string;
  stop(): Promise<void>;
}

export function startPlain(command: string, args: readonly string[]): PlainProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  const exited = once(child, 'exit');
  child.on('error', () => {});
  return {
    process: child,
    pid: child.pid ?? -1,
    output: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(kill);
    },
  };
}
