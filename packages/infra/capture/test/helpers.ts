import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Launch } from '../src/index.ts';

const TRAFFIC = fileURLToPath(new URL('./fixtures/traffic.ts', import.meta.url));

/**
 * Runs the traffic fixture under `launch`. With `exit` it exits by itself once done; with
 * `kill` it is SIGKILLed once it says `done` plus `afterMs` (a capture that never got to its
 * exit handler).
 */
export async function runTraffic(
  launch: Launch,
  mode: 'exit' | 'kill',
  afterMs = 0,
): Promise<{ code: number | null; stdout: string }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...launch.nodeArgs, TRAFFIC, mode === 'exit' ? 'exit' : 'wait'],
    { env: { ...process.env, ...launch.env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit') as Promise<[number | null]>;
  let stdout = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    stdout += d;
    if (mode === 'kill' && stdout.includes('done'))
      setTimeout(() => child.kill('SIGKILL'), afterMs);
  });
  const [code] = await exited;
  return { code, stdout };
}
