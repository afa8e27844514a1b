/**
 * What /proc says about processes: enough to find every process a lab started, even after the
 * harness that started it was killed, without ever signalling a stranger.
 *
 * A pid alone is not an identity (pids are reused), so the lab records (pid, start time): the
 * start time in clock ticks since boot (field 22 of /proc/<pid>/stat) never repeats for a pid.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';

export interface ProcessIdentity {
  readonly pid: number;
  /** Clock ticks after boot; undefined if the process was already gone when looked at. */
  readonly startTime: number | undefined;
}

export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
  readonly startTime: number;
}

/** Parses /proc/<pid>/stat. The command name may hold spaces and parentheses, so split after the last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // Fields after the name start at field 3 (state); start time is field 22.
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgid = Number(rest[2]);
  const startTime = Number(rest[19]);
  if (state === undefined || ![pid, ppid, pgid, startTime].every(Number.isSafeInteger)) {
    return undefined;
  }
  return { pid, state, ppid, pgid, startTime };
}

export function procStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

export function identity(pid: number): ProcessIdentity {
  return { pid, startTime: procStat(pid)?.startTime };
}

/** Alive and the same process that was recorded (a zombie counts as gone: it runs nothing). */
export function isAlive(who: ProcessIdentity): boolean {
  const stat = procStat(who.pid);
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return false;
  return who.startTime === undefined || stat.startTime === who.startTime;
}

export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (/^[0-9]+$/.test(name)) pids.push(Number(name));
  }
  return pids;
}

/** One variable of a process's initial environment, or undefined (gone, or not readable). */
export function environValue(pid: number, name: string): string | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return undefined;
  }
  const prefix = `${name}=`;
  for (const entry of raw.split('\0')) {
    if (entry.startsWith(prefix)) return entry.slice(prefix.length);
  }
  return undefined;
}

/** The inode identifying a process's network namespace, or undefined. */
export function netnsInodeOf(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino;
  } catch {
    return undefined;
  }
}

/** The inode of a named namespace (`ip netns` bind-mounts it at /run/netns/<name>). */
export function namedNetnsInode(name: string): number | undefined {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return undefined;
  }
}

/** This process, as a manifest records its owner. */
export function self(): ProcessIdentity {
  return identity(process.pid);
}
