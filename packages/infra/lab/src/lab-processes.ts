/**
 * Finding every live process that belongs to a lab, and ending them. The harness's destroy()
 * and the sweep use the same search, so a process escapes neither: a process belongs to a lab
 * when any of these holds
 *
 *   1. its environment carries SPLITRELAY_LAB=<id> (every lab process and its descendants,
 *      unless one clears its environment);
 *   2. it lives in one of the lab's network namespaces (whatever started it);
 *   3. it is a recorded (pid, start time), or in the process group led by one that still
 *      runs (lab processes lead their own groups).
 *
 * A pid or group number counts only with a matching start time: a process recorded after it
 * had already exited (no start time), or a group whose leader is gone, is left to rules 1 and
 * 2, so a reused number never selects a stranger. The caller's own process is never selected,
 * whatever its environment says.
 */
import {
  environValue,
  isAlive,
  listPids,
  netnsInodeOf,
  procStat,
  type ProcessIdentity,
} from './proc.ts';
import { sleepSync } from './commands.ts';
import { LAB_ID_ENV } from './names.ts';

export interface LabProcessQuery {
  readonly id: string;
  /** Inodes of the lab's network namespaces that still exist. */
  readonly netnsInodes: readonly number[];
  /** Processes the manifest recorded. */
  readonly recorded: readonly ProcessIdentity[];
}

export function findLabProcesses(query: LabProcessQuery): ProcessIdentity[] {
  const inodes = new Set(query.netnsInodes);
  const recordedStart = new Map<number, number | undefined>();
  for (const r of query.recorded) recordedStart.set(r.pid, r.startTime);
  const found: ProcessIdentity[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const stat = procStat(pid);
    if (stat === undefined || stat.state === 'Z' || stat.state === 'X') continue;
    let belongs = environValue(pid, LAB_ID_ENV) === query.id;
    if (!belongs && inodes.size > 0) {
      const ino = netnsInodeOf(pid);
      belongs = ino !== undefined && inodes.has(ino);
    }
    if (!belongs) {
      const start = recordedStart.get(pid);
      belongs = start !== undefined && start === stat.startTime;
    }
    if (!belongs && stat.pgid !== pid) {
      const start = recordedStart.get(stat.pgid);
      const leader = start === undefined ? undefined : procStat(stat.pgid);
      belongs = leader !== undefined && leader.startTime === start;
    }
    if (belongs) found.push({ pid, startTime: stat.startTime });
  }
  return found;
}

/** Sends a signal to each process that is still the one identified. Returns how many got it. */
function signalAll(processes: readonly ProcessIdentity[], signal: NodeJS.Signals): number {
  let sent = 0;
  for (const p of processes) {
    if (!isAlive(p)) continue;
    try {
      process.kill(p.pid, signal);
      sent++;
    } catch {
      // Gone between the check and the signal.
    }
  }
  return sent;
}

const POLL_MS = 25;

async function waitGone(
  processes: readonly ProcessIdentity[],
  timeoutMs: number,
): Promise<ProcessIdentity[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = processes.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    alive = alive.filter(isAlive);
  }
  return alive;
}

function waitGoneSync(processes: readonly ProcessIdentity[], timeoutMs: number): ProcessIdentity[] {
  const deadline = Date.now() + timeoutMs;
  let alive = processes.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    sleepSync(POLL_MS);
    alive = alive.filter(isAlive);
  }
  return alive;
}

/**
 * SIGTERM, a grace period, then SIGKILL for whoever is left, repeated until nothing of the lab
 * runs (a dying process may have forked). Returns the processes still alive at the end.
 */
export async function endLabProcesses(
  find: () => ProcessIdentity[],
  graceMs: number,
): Promise<ProcessIdentity[]> {
  const first = find();
  signalAll(first, 'SIGTERM');
  await waitGone(first, graceMs);
  for (let round = 0; round < 3; round++) {
    const left = find();
    if (left.length === 0) return [];
    signalAll(left, 'SIGKILL');
    await waitGone(left, 2_000);
  }
  return find();
}

export function endLabProcessesSync(
  find: () => ProcessIdentity[],
  graceMs: number,
): ProcessIdentity[] {
  const first = find();
  signalAll(first, 'SIGTERM');
  waitGoneSync(first, graceMs);
  for (let round = 0; round < 3; round++) {
    const left = find();
    if (left.length === 0) return [];
    signalAll(left, 'SIGKILL');
    waitGoneSync(left, 2_000);
  }
  return find();
}
