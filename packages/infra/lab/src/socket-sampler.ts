/**
 * Samples socket tables during a run: once on demand (`lab.sampleSockets()`) or every
 * interval (`lab.startSocketSampling()`), each sample appended as one JSON line to
 * <run>/sockets/<role>.jsonl: { at, role, source, entries }.
 *
 * `ss -tunapH` run in the role's namespace gives owners directly. Without ss, the four
 * /proc/net tables are read in the namespace and each socket inode is matched to the processes
 * holding it (their /proc/<pid>/fd links read "socket:[<inode>]").
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './commands.ts';
import type { Role } from './roles.ts';
import {
  parseProcNet,
  parseSs,
  withOwners,
  type SocketEntry,
  type SocketOwner,
} from './sockets.ts';

export interface SocketSample {
  /** ISO time of the sample. */
  readonly at: string;
  readonly role: Role;
  readonly source: 'ss' | 'proc';
  readonly entries: readonly SocketEntry[];
}

export interface SocketSource {
  /** Runs a short command where the role's sockets live and returns its stdout. */
  runIn(role: Role, command: string, args: readonly string[]): Promise<string>;
  /** Processes whose fds may hold the role's sockets (for the /proc path). */
  pidsOf(role: Role): number[];
  /** Keeps the entries that belong to the role (a shared stack holds every role's sockets). */
  select(role: Role, entries: SocketEntry[]): SocketEntry[];
}

async function sampleRole(
  source: SocketSource,
  role: Role,
  now: () => Date,
): Promise<SocketSample> {
  const at = now().toISOString();
  if (findBinary('ss') !== undefined) {
    const text = await source.runIn(role, 'ss', ['-tunapH']);
    return { at, role, source: 'ss', entries: source.select(role, parseSs(text)) };
  }
  const littleEndian = endianness() === 'LE';
  const tables = [
    ['tcp', 4],
    ['tcp6', 6],
    ['udp', 4],
    ['udp6', 6],
  ] as const;
  const entries: SocketEntry[] = [];
  for (const [file, family] of tables) {
    const text = await source.runIn(role, 'cat', [`/proc/net/${file}`]);
    entries.push(
      ...parseProcNet(text, {
        protocol: file.startsWith('tcp') ? 'tcp' : 'udp',
        family,
        littleEndian,
      }),
    );
  }
  return {
    at,
    role,
    source: 'proc',
    entries: source.select(role, withOwners(entries, socketOwners(source.pidsOf(role)))),
  };
}

/** inode → the processes holding that socket. */
function socketOwners(pids: readonly number[]): Map<number, SocketOwner[]> {
  const owners = new Map<number, SocketOwner[]>();
  for (const pid of pids) {
    let fds: string[];
    let name: string | undefined;
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
      name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (!m) continue;
      const inode = Number(m[1]);
      const list = owners.get(inode) ?? [];
      list.push({ name, pid, fd: Number(fd) });
      owners.set(inode, list);
    }
  }
  return owners;
}

export class SocketSampler {
  readonly #source: SocketSource;
  readonly #dir: string;
  readonly #now: () => Date;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(source: SocketSource, runDir: string, now: () => Date) {
    this.#source = source;
    this.#dir = join(runDir, 'sockets');
    this.#now = now;
  }

  async sample(roles: readonly Role[]): Promise<SocketSample[]> {
    mkdirSync(this.#dir, { recursive: true });
    const samples = await Promise.all(roles.map((r) => sampleRole(this.#source, r, this.#now)));
    for (const s of samples)
      appendFileSync(join(this.#dir, `${s.role}.jsonl`), `${JSON.stringify(s)}\n`);
    return samples;
  }

  /** Samples every `intervalMs` until `stop()`; a slow sample delays the next, never overlaps it. */
  start(roles: readonly Role[], intervalMs: number): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const tick = (): void => {
      this.#inFlight = this.sample(roles)
        .catch(() => undefined)
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  /** For the synchronous teardown: no further samples. */
  stopNow(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
