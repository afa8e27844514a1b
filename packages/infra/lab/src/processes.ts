/**
 * Processes run inside a role: started through the role's wrapper (`ip netns exec <ns>` in a
 * namespaced lab), output straight to files in the run folder (so it survives the harness), in
 * a process group of their own (so ending one ends what it forked), marked in their environment
 * (so a sweep finds them), and recorded in the manifest before and after they start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { LabError } from './lab-error.ts';
import type { Manifest } from './manifest.ts';
import { LAB_ID_ENV, LAB_MANIFEST_ENV } from './names.ts';
import { identity, isAlive, listPids, procStat, type ProcessIdentity } from './proc.ts';
import type { Role } from './roles.ts';

export interface SpawnOptions {
  /** Added to the harness's environment (a value of undefined removes a variable). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Names the evidence files (processes/<role>-<name>.stdout.log); the command's basename by default. */
  readonly name?: string;
  /** 'pipe' exposes stdin as `process.stdin`; 'ignore' by default. */
  readonly stdin?: 'ignore' | 'pipe';
  /**
   * 'file' (default) sends the stream straight to its file; 'pipe' also hands it to the harness
   * (`process.stdout` / `process.stderr`), still copied to the file.
   */
  readonly stdout?: 'file' | 'pipe';
  readonly stderr?: 'file' | 'pipe';
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface LabProcess {
  readonly role: Role | 'router';
  readonly name: string;
  readonly pid: number;
  readonly stdoutFile: string;
  readonly stderrFile: string;
  /** The Node child (its stdin/stdout/stderr are streams only when asked for with 'pipe'). */
  readonly child: ChildProcess;
  readonly exited: Promise<ProcessExit>;
  /** Resolves once the process has exited and its stdio streams are closed. */
  readonly closed: Promise<void>;
  readonly running: boolean;
  /** Resolves with the first output line matching `pattern` (stdout and stderr), bounded by time. */
  waitForOutput(pattern: RegExp, options?: { timeoutMs?: number }): Promise<string>;
  /** Signals the process's whole group. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<ProcessExit>;
}

export interface ProcessHost {
  readonly id: string;
  readonly manifest: Manifest;
  readonly runDir: string;
  /** How a command is started in a role: `ip netns exec <ns> ...` or as is. */
  wrap(role: Role | 'router', command: string, args: readonly string[]): [string, string[]];
}

const DEFAULT_GRACE_MS = 3_000;
const POLL_MS = 50;

export class ProcessTable {
  readonly #host: ProcessHost;
  readonly #all: LabProcess[] = [];
  readonly #names = new Map<string, number>();

  constructor(host: ProcessHost) {
    this.#host = host;
  }

  all(): readonly LabProcess[] {
    return this.#all;
  }

  /** Every identity recorded so far, for the teardown's search. */
  identities(): ProcessIdentity[] {
    return this.#all.map((p) => ({ pid: p.pid, startTime: startTimes.get(p) }));
  }

  spawn(
    role: Role | 'router',
    command: string,
    args: readonly string[] = [],
    options: SpawnOptions = {},
  ): LabProcess {
    const host = this.#host;
    const name = this.#uniqueName(`${role}-${safeName(options.name ?? basename(command))}`);
    const dir = join(host.runDir, 'processes');
    mkdirSync(dir, { recursive: true });
    const stdoutFile = join(dir, `${name}.stdout.log`);
    const stderrFile = join(dir, `${name}.stderr.log`);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...options.env })) {
      if (v !== undefined) env[k] = v;
    }
    // A harness under `node --test` must not turn its Node children into test-runner children.
    delete env.NODE_TEST_CONTEXT;
    env[LAB_ID_ENV] = host.id;
    env[LAB_MANIFEST_ENV] = host.manifest.path;
    const [file, argv] = host.wrap(role, command, args);
    host.manifest.append({ t: 'spawn', role, name, command: [command, ...args].join(' ') });
    const outFd = openSync(stdoutFile, 'a');
    const errFd = openSync(stderrFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(file, argv, {
        cwd: options.cwd,
        env,
        // Its own process group: ending the group ends what it forked, and a Ctrl-C meant for
        // the harness does not reach it before the harness can stop it in order.
        detached: true,
        stdio: [
          options.stdin === 'pipe' ? 'pipe' : 'ignore',
          options.stdout === 'pipe' ? 'pipe' : outFd,
          options.stderr === 'pipe' ? 'pipe' : errFd,
        ],
      });
    } finally {
      closeSync(outFd);
      closeSync(errFd);
    }
    if (child.pid === undefined) {
      throw new LabError('command-failed', `could not start ${command} in ${role}`);
    }
    const pid = child.pid;
    const who = identity(pid);
    host.manifest.append({ t: 'process', pid, startTime: who.startTime, role, name });
    const copies = [
      options.stdout === 'pipe' ? tee(child.stdout, stdoutFile) : undefined,
      options.stderr === 'pipe' ? tee(child.stderr, stderrFile) : undefined,
    ];
    let exit: ProcessExit | undefined;
    const closed = Promise.all([
      new Promise<void>((resolve) => child.once('close', () => resolve())),
      ...copies,
    ]).then(() => undefined);
    const exited = (async (): Promise<ProcessExit> => {
      const [code, signal] = (await once(child, 'exit').catch(() => [null, null])) as [
        number | null,
        NodeJS.Signals | null,
      ];
      exit = { code, signal };
      return exit;
    })();
    const lp: LabProcess = {
      role,
      name,
      pid,
      stdoutFile,
      stderrFile,
      child,
      exited,
      closed,
      get running() {
        return exit === undefined;
      },
      waitForOutput: (pattern, o) => waitForOutput([stdoutFile, stderrFile], pattern, exited, o),
      signal(sig) {
        // Only while the leader is unreaped is the group number surely still ours.
        if (exit === undefined) {
          try {
            process.kill(-pid, sig);
          } catch {
            // already gone
          }
        }
      },
      async stop(graceMs = DEFAULT_GRACE_MS) {
        lp.signal('SIGTERM');
        const timer = setTimeout(() => lp.signal('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        killGroupRemnants(pid, host.id);
        return result;
      },
    };
    startTimes.set(lp, who.startTime);
    this.#all.push(lp);
    return lp;
  }

  #uniqueName(base: string): string {
    const n = (this.#names.get(base) ?? 0) + 1;
    this.#names.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  }
}

const startTimes = new WeakMap<LabProcess, number | undefined>();

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60) || 'process';
}

/** Copies a child's stream into its evidence file; resolves once the file is closed. */
function tee(stream: Readable | null, file: string): Promise<void> | undefined {
  if (!stream) return undefined;
  const out = createWriteStream(file, { flags: 'a' });
  stream.on('data', (chunk: Buffer) => out.write(chunk));
  stream.once('close', () => out.end());
  return new Promise((resolve) => out.once('close', () => resolve()));
}

/**
 * Members of a group whose leader has exited, still carrying this lab's marker: SIGKILL them.
 * (The marker check keeps a reused group number from ever reaching a stranger.)
 */
function killGroupRemnants(pgid: number, labId: string): void {
  for (const pid of listPids()) {
    const stat = procStat(pid);
    if (stat?.pgid !== pgid || pid === process.pid) continue;
    const who = { pid, startTime: stat.startTime };
    if (!isAlive(who)) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (env.split('\0').includes(`${LAB_ID_ENV}=${labId}`)) process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

async function waitForOutput(
  files: readonly string[],
  pattern: RegExp,
  exited: Promise<ProcessExit>,
  options: { timeoutMs?: number } = {},
): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    // Read after noting the exit, so the last look sees everything the process wrote.
    const finished = done;
    for (const file of files) {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        // not written yet
      }
      const line = text.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return line;
    }
    if (finished) {
      throw new LabError('timeout', `the process exited without printing ${pattern}`);
    }
    if (Date.now() > deadline) {
      throw new LabError(
        'timeout',
        `no output matching ${pattern} within ${options.timeoutMs ?? 10_000} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
