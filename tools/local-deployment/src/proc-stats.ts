/**
 * What the kernel says about a process tree: CPU seconds (utime + stime from /proc/PID/stat)
 * and resident memory (VmRSS from /proc/PID/status). Trees matter for sshd, which forks a
 * process per connection.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticks: number | undefined;
/** Clock ticks per second of stat's times, asked once and only by who reads them. */
function clockTicks(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticks;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of one process, in seconds (fields 14 and 15 of stat, 1-based). */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/** VmRSS of one process, in KiB (0 once it is gone). */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The process and all its descendants alive now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (!f) continue;
    const ppid = Number(f[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

export function treeCpuSeconds(roots: readonly number[]): number {
  return roots.flatMap(processTree).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

export function treeRssKiB(roots: readonly number[]): number {
  return roots.flatMap(processTree).reduce((sum, pid) => sum + rssKiB(pid), 0);
}

/** Soft and hard limits on open files of a process. */
export function fdLimits(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  const n = (s: string | undefined): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/**
 * Proportional set size in KiB: shared pages divided among the processes sharing them, so a
 * tree of forked sshd processes is not charged its shared libraries once per process.
 */
export function pssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function treePssKiB(roots: readonly number[]): number {
  return roots.flatMap(processTree).reduce((sum, pid) => sum + pssKiB(pid), 0);
}

/** User and system CPU seconds of a process tree, apart (kernel time is mostly loopback TCP). */
export function treeUserSystem(roots: readonly number[]): { user: number; system: number } {
  let user = 0;
  let system = 0;
  for (const pid of roots.flatMap(processTree)) {
    const f = statFields(pid);
    if (!f) continue;
    user += Number(f[11]) / clockTicks();
    system += Number(f[12]) / clockTicks();
  }
  return { user, system };
}
