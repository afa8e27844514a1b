/** The machine line of the report: CPU model, cores, memory, kernel, Node and OpenSSH. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly openssh: string;
}

export function describeMachine(openssh: string): Machine {
  const model =
    /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ??
    'unknown CPU';
  const nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  return {
    cpu: model,
    cores: nproc,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    openssh,
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores (nproc), ${m.memoryGiB} GiB RAM, ${m.kernel}; Node ${m.node}; ${m.openssh}`;
}
