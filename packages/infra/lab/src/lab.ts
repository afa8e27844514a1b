/**
 * createLab(): a run of the auditor's lab. One run folder holds all its evidence:
 *
 *   <evidenceRoot>/<id>/
 *     manifest.jsonl        everything created, each line written before the thing exists
 *     lab.json              mode, addresses, links, matrix, filter, limitations
 *     topology/<ns>.json    addresses, routes and forwarding as the kernel reports them
 *     processes/<role>-<name>.{stdout,stderr}.log
 *     captures/<link>.<end>.pcap (+ the tcpdump logs under processes/)
 *     sockets/<role>.jsonl  socket-table samples
 *     reachability.json     verifyReachability() checks
 *     router-filter.txt     the router's filter with its counters, at destroy
 *     destroy.json          what destroy() ended and removed, and any leftovers
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idBytes } from './addresses.ts';
import type { Backend, RoleAddress } from './backend.ts';
import { startCapture, type Capture, type CaptureOptions, type CaptureStats } from './capture.ts';
import { findBinary, run, type CommandResult } from './commands.ts';
import { guard, release, type Destroyable } from './exit-hooks.ts';
import { loopbackBackend } from './fallback.ts';
import type { FirewallKind } from './firewall.ts';
import { LabError } from './lab-error.ts';
import {
  defaultRegistryDir,
  Manifest,
  readRegistryEntry,
  removeRegistryEntry,
  writeRegistryEntry,
} from './manifest.ts';
import { labId, netnsName } from './names.ts';
import { netnsBackend } from './netns-backend.ts';
import { self } from './proc.ts';
import { ProcessTable, type LabProcess, type SpawnOptions } from './processes.ts';
import {
  matrixProblems,
  trustModelDepartures,
  TRUST_MODEL,
  type ReachabilityMatrix,
} from './reachability.ts';
import { isRole, ROLES, type Role } from './roles.ts';
import { SocketSampler, type SocketSample } from './socket-sampler.ts';
import { cleanLab, cleanLabSync, type CleanupResult } from './teardown.ts';
import { buildTopology, type LinkInfo } from './topology.ts';
import { namedNetnsInode } from './proc.ts';
import { verifyReachability, type ReachabilityReport, type VerifyOptions } from './verify.ts';

export interface LabSpec {
  /** Parent of the run folder (<evidenceRoot>/<id>/); <tmpdir>/splitrelay-lab by default. */
  readonly evidenceRoot?: string;
  /**
   * 'auto' (default): namespaces when root and the kernel allows, else the loopback fallback;
   * 'netns': namespaces or an error; 'loopback': the fallback, whatever the machine can do.
   */
  readonly mode?: 'auto' | 'netns' | 'loopback';
  /** Who may open connections to whom; the trust model by default. */
  readonly reachability?: ReachabilityMatrix;
  /** The router's packet filter: 'auto' (default) takes nftables, else iptables, else none. */
  readonly firewall?: 'auto' | FirewallKind;
  /** Give roles that may reach the dns role a resolv.conf naming it (default true). */
  readonly resolvConf?: boolean;
  /** Where live labs are registered for the sweep (see manifest.ts). */
  readonly registryDir?: string;
  /** Destroy the lab on SIGINT/SIGTERM/SIGHUP, uncaught exceptions and exit (default true). */
  readonly exitHooks?: boolean;
  /** Between SIGTERM and SIGKILL when processes are stopped (default 3000 ms). */
  readonly stopGraceMs?: number;
  /** Random bytes (the run id). */
  readonly rng?: (n: number) => Uint8Array;
  readonly now?: () => Date;
}

export interface DestroyReport {
  readonly ok: boolean;
  readonly captures: readonly CaptureStats[];
  readonly cleanup: CleanupResult;
}

export interface Lab {
  /** The run id, e.g. "sra-1a2b3c"; every name the lab gives the kernel starts with it. */
  readonly id: string;
  readonly mode: 'netns' | 'loopback';
  readonly runDir: string;
  readonly manifestPath: string;
  readonly roles: readonly Role[];
  readonly reachability: ReachabilityMatrix;
  readonly firewall: FirewallKind;
  /** In words, what evidence from this lab is weaker than a namespaced lab's (empty when none). */
  readonly limitations: readonly string[];
  readonly destroyed: boolean;
  address(role: Role): RoleAddress;
  /** The role's (or router's) namespace name; undefined on loopback. */
  namespace(role: Role | 'router'): string | undefined;
  links(): readonly LinkInfo[];
  spawn(role: Role, command: string, args?: readonly string[], options?: SpawnOptions): LabProcess;
  /** Runs a short command in the role and returns its output (bounded; 10 s by default). */
  exec(
    role: Role,
    command: string,
    args?: readonly string[],
    options?: { timeoutMs?: number },
  ): Promise<CommandResult>;
  /** Starts tcpdump on the links (every role's by default); resolves once each is listening. */
  capture(
    links?: Role | readonly Role[] | 'all',
    options?: CaptureOptions & { ends?: 'router' | 'role' | 'both' },
  ): Promise<Capture>;
  sampleSockets(roles?: readonly Role[]): Promise<SocketSample[]>;
  startSocketSampling(options?: { intervalMs?: number; roles?: readonly Role[] }): {
    stop(): Promise<void>;
  };
  verifyReachability(options?: VerifyOptions): Promise<ReachabilityReport>;
  /** Ends processes and captures, removes namespaces and veths. Idempotent. */
  destroy(): Promise<DestroyReport>;
  /** The same, synchronously (for exit hooks); flushes captures by SIGTERM instead of awaiting them. */
  destroySync(): DestroyReport;
}

const MAX_ID_DRAWS = 16;

export async function createLab(spec: LabSpec = {}): Promise<Lab> {
  const matrix = spec.reachability ?? TRUST_MODEL;
  const problems = matrixProblems(matrix);
  if (problems.length > 0) {
    throw new LabError('invalid-spec', `invalid reachability matrix: ${problems.join('; ')}`);
  }
  const rng = spec.rng ?? ((n: number) => Uint8Array.from(randomBytes(n)));
  const now = spec.now ?? (() => new Date());
  const registryDir = spec.registryDir ?? defaultRegistryDir();
  const evidenceRoot = spec.evidenceRoot ?? join(tmpdir(), 'splitrelay-lab');
  const grace = spec.stopGraceMs ?? 3_000;

  let id = '';
  for (let draw = 0; ; draw++) {
    if (draw === MAX_ID_DRAWS)
      throw new LabError('invalid-spec', 'no free lab id (is the rng constant?)');
    id = labId(rng(3));
    const taken =
      readRegistryEntry(registryDir, id) !== undefined ||
      existsSync(join(evidenceRoot, id)) ||
      namedNetnsInode(netnsName(id, 'router')) !== undefined;
    if (!taken) break;
  }
  const runDir = join(evidenceRoot, id);
  mkdirSync(runDir, { recursive: true });
  const manifest = new Manifest(runDir);

  const wantNetns = spec.mode !== 'loopback';
  const root = process.getuid?.() === 0;
  const haveIp = findBinary('ip') !== undefined;
  let mode: 'netns' | 'loopback' = wantNetns && root && haveIp ? 'netns' : 'loopback';
  if (spec.mode === 'netns' && mode !== 'netns') {
    throw new LabError(
      'invalid-spec',
      root ? 'ip (iproute2) is not installed' : 'namespaces need root',
    );
  }
  manifest.append({ t: 'lab', id, mode, owner: self(), runDir, createdAt: now().toISOString() });
  writeRegistryEntry(registryDir, { id, manifest: manifest.path, owner: self() });

  // Until the lab object exists, an interruption cleans up from the manifest alone.
  const early: Destroyable = {
    destroyed: false,
    destroy: () => cleanLab(id, manifest.read(), grace),
    destroySync: () => cleanLabSync(id, manifest.read(), grace),
  };
  if (spec.exitHooks !== false) guard(early);

  let backend: Backend | undefined;
  // The backend decides how a process enters a role; it exists once the build is done.
  const table = new ProcessTable({
    id,
    manifest,
    runDir,
    wrap: (role, command, args) => backend!.wrap(role, command, args),
  });
  const tableRef = (): ProcessTable => table;
  try {
    if (mode === 'netns') {
      try {
        const topology = await buildTopology({
          id,
          manifest,
          runDir,
          matrix,
          firewall: spec.firewall ?? 'auto',
          resolvConf: spec.resolvConf ?? true,
        });
        backend = netnsBackend(topology);
      } catch (err) {
        await cleanLab(id, manifest.read(), grace);
        if (spec.mode === 'netns' || (err instanceof LabError && err.code === 'invalid-spec'))
          throw err;
        mode = 'loopback';
        manifest.append({
          t: 'lab',
          id,
          mode,
          owner: self(),
          runDir,
          createdAt: now().toISOString(),
        });
        backend = loopbackBackend(
          idBytes(id),
          tableRef,
          `namespaces failed: ${(err as Error).message}`,
        );
      }
    } else {
      const reason =
        spec.mode === 'loopback'
          ? 'forced by the lab spec'
          : !root
            ? 'not root'
            : 'ip (iproute2) is not installed';
      backend = loopbackBackend(idBytes(id), tableRef, reason);
    }
  } catch (err) {
    release(early);
    removeRegistryEntry(registryDir, id);
    throw err;
  }
  for (const d of trustModelDepartures(matrix))
    backend.limitations.push(`custom reachability matrix: ${d}`);

  const lab = new LabRun({ id, runDir, manifest, matrix, backend, table, registryDir, grace, now });
  writeFileSync(join(runDir, 'lab.json'), `${JSON.stringify(lab.describe(), null, 2)}\n`);
  if (spec.exitHooks !== false) {
    guard(lab);
    release(early);
  }
  return lab;
}

interface LabParts {
  readonly id: string;
  readonly runDir: string;
  readonly manifest: Manifest;
  readonly matrix: ReachabilityMatrix;
  readonly backend: Backend;
  readonly table: ProcessTable;
  readonly registryDir: string;
  readonly grace: number;
  readonly now: () => Date;
}

class LabRun implements Lab {
  readonly id: string;
  readonly runDir: string;
  readonly manifestPath: string;
  readonly roles = ROLES;
  readonly reachability: ReachabilityMatrix;
  readonly #p: LabParts;
  readonly #captures = new Set<Capture>();
  readonly #capturePids = new Set<number>();
  readonly #samplers = new Set<SocketSampler>();
  readonly #sampler: SocketSampler;
  #destroying: Promise<DestroyReport> | undefined;
  #report: DestroyReport | undefined;

  constructor(parts: LabParts) {
    this.#p = parts;
    this.id = parts.id;
    this.runDir = parts.runDir;
    this.manifestPath = parts.manifest.path;
    this.reachability = parts.matrix;
    this.#sampler = new SocketSampler(parts.backend.sockets, parts.runDir, parts.now);
  }

  get mode(): 'netns' | 'loopback' {
    return this.#p.backend.mode;
  }

  get firewall(): FirewallKind {
    return this.#p.backend.firewall;
  }

  get limitations(): readonly string[] {
    return this.#p.backend.limitations;
  }

  get destroyed(): boolean {
    return this.#destroying !== undefined || this.#report !== undefined;
  }

  describe(): object {
    return {
      id: this.id,
      mode: this.mode,
      firewall: this.firewall,
      enforced: this.#p.backend.enforced,
      addresses: Object.fromEntries(ROLES.map((r) => [r, this.address(r)])),
      namespaces: Object.fromEntries(
        [...ROLES, 'router' as const].map((r) => [r, this.namespace(r)]),
      ),
      links: this.links(),
      reachability: this.reachability,
      limitations: this.limitations,
    };
  }

  address(role: Role): RoleAddress {
    return this.#p.backend.address(checkRole(role));
  }

  namespace(role: Role | 'router'): string | undefined {
    return this.#p.backend.namespace(role === 'router' ? role : checkRole(role));
  }

  links(): readonly LinkInfo[] {
    return this.#p.backend.links();
  }

  spawn(
    role: Role,
    command: string,
    args: readonly string[] = [],
    options: SpawnOptions = {},
  ): LabProcess {
    this.#alive();
    return this.#p.table.spawn(checkRole(role), command, args, options);
  }

  async exec(
    role: Role,
    command: string,
    args: readonly string[] = [],
    options: { timeoutMs?: number } = {},
  ): Promise<CommandResult> {
    this.#alive();
    const [file, argv] = this.#p.backend.wrap(checkRole(role), command, args);
    return run(file, argv, { timeoutMs: options.timeoutMs ?? 10_000, allowFailure: true });
  }

  async capture(
    links: Role | readonly Role[] | 'all' = 'all',
    options: CaptureOptions & { ends?: 'router' | 'role' | 'both' } = {},
  ): Promise<Capture> {
    this.#alive();
    const tcpdump = findBinary('tcpdump');
    if (tcpdump === undefined) throw new LabError('capture-failed', 'tcpdump is not installed');
    const roles = links === 'all' ? ROLES : typeof links === 'string' ? [links] : links;
    const targets = roles.flatMap((r) =>
      this.#p.backend.captureTargets(checkRole(r), options.ends ?? 'router'),
    );
    const before = new Set(this.#p.table.all());
    const capture = await startCapture(this.#p.table, this.runDir, targets, tcpdump, options);
    for (const p of this.#p.table.all()) if (!before.has(p)) this.#capturePids.add(p.pid);
    this.#captures.add(capture);
    return capture;
  }

  sampleSockets(roles: readonly Role[] = ROLES): Promise<SocketSample[]> {
    this.#alive();
    return this.#sampler.sample(roles.map(checkRole));
  }

  startSocketSampling(options: { intervalMs?: number; roles?: readonly Role[] } = {}): {
    stop(): Promise<void>;
  } {
    this.#alive();
    const sampler = new SocketSampler(this.#p.backend.sockets, this.runDir, this.#p.now);
    this.#samplers.add(sampler);
    sampler.start((options.roles ?? ROLES).map(checkRole), options.intervalMs ?? 500);
    return {
      stop: async () => {
        await sampler.stop();
        this.#samplers.delete(sampler);
      },
    };
  }

  verifyReachability(options: VerifyOptions = {}): Promise<ReachabilityReport> {
    this.#alive();
    const backend = this.#p.backend;
    return verifyReachability(
      {
        runDir: this.runDir,
        matrix: this.reachability,
        enforced: backend.enforced,
        firewall: backend.firewall,
        processes: this.#p.table,
        address: (role) => backend.address(role),
        sourceFor: (role, family) => backend.sourceFor(role, family),
      },
      options,
    );
  }

  destroy(): Promise<DestroyReport> {
    if (this.#report) return Promise.resolve(this.#report);
    this.#destroying ??= this.#destroyAsync();
    return this.#destroying;
  }

  destroySync(): DestroyReport {
    if (this.#report) return this.#report;
    for (const s of this.#samplers) s.stopNow();
    // tcpdump flushes on the SIGTERM the cleanup sends; the router's counters are read first.
    this.#finalEvidence();
    const cleanup = cleanLabSync(this.id, this.#p.manifest.read(), this.#p.grace);
    return this.#finish([], cleanup);
  }

  async #destroyAsync(): Promise<DestroyReport> {
    await Promise.allSettled([...this.#samplers].map((s) => s.stop()));
    const apps = this.#p.table.all().filter((p) => p.running && !this.#capturePids.has(p.pid));
    await Promise.allSettled(apps.map((p) => p.stop(this.#p.grace)));
    const stats = (await Promise.allSettled([...this.#captures].map((c) => c.stop()))).flatMap(
      (r) => (r.status === 'fulfilled' ? r.value : []),
    );
    this.#finalEvidence();
    const cleanup = await cleanLab(this.id, this.#p.manifest.read(), this.#p.grace);
    // Every Node child handle is released before destroy() resolves: 'close' comes after the
    // exit and the stdio streams, and libuv frees the handle in the close phase that follows
    // (after this turn's immediates, before the next turn's timers).
    await Promise.allSettled(this.#p.table.all().map((p) => bounded(p.closed, 2_000)));
    await new Promise((resolve) => setImmediate(() => setTimeout(resolve, 0)));
    return this.#finish(stats, cleanup);
  }

  #finalEvidence(): void {
    try {
      this.#p.backend.finalEvidenceSync(this.runDir);
    } catch {
      // Evidence is best effort at this point; the teardown must go on.
    }
  }

  #finish(captures: CaptureStats[], cleanup: CleanupResult): DestroyReport {
    if (this.#report) return this.#report;
    const report: DestroyReport = { ok: cleanup.leftovers.length === 0, captures, cleanup };
    this.#report = report;
    this.#p.manifest.append({
      t: 'destroyed',
      at: this.#p.now().toISOString(),
      leftovers: cleanup.leftovers,
    });
    // With leftovers the entry stays, so a later sweep still finds the lab once this process is gone.
    if (report.ok) removeRegistryEntry(this.#p.registryDir, this.id);
    try {
      writeFileSync(join(this.runDir, 'destroy.json'), `${JSON.stringify(report, null, 2)}\n`);
    } catch {
      // The run folder may be gone; the report is returned all the same.
    }
    release(this);
    return report;
  }

  #alive(): void {
    if (this.destroyed) throw new LabError('destroyed', `lab ${this.id} was destroyed`);
  }
}

function bounded(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer));
}

function checkRole(role: Role): Role {
  if (!isRole(role)) throw new LabError('unknown-role', `unknown role "${String(role)}"`);
  return role;
}
