/**
 * Proves the reachability matrix by trying it: a probe agent (probe-agent.ts) in every role
 * listens on the role's addresses, then every role tries a TCP connection to every other role,
 * IPv4 and IPv6, allowed pairs and forbidden pairs alike, each bounded by a timeout.
 *
 *   expected open     passes only when the connection is accepted;
 *   expected blocked  passes only when no packet reached the listener: no route
 *                     (ENETUNREACH/EHOSTUNREACH) or silence until the timeout (the router
 *                     dropped it). A refusal (RST) fails: something answered from the far side.
 *
 * The checks are written to <run>/reachability.json (reachability-2.json... on later calls).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FirewallKind } from './firewall.ts';
import { LabError } from './lab-error.ts';
import type { LabProcess, ProcessTable } from './processes.ts';
import { expectedPairs, type ReachabilityMatrix } from './reachability.ts';
import { ROLES, type Role } from './roles.ts';

export type ProbeOutcome = 'connected' | 'refused' | 'unreachable' | 'timeout' | 'error';

export interface ReachabilityCheck {
  readonly from: Role;
  readonly to: Role;
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  readonly expected: 'open' | 'blocked';
  readonly outcome: ProbeOutcome;
  /** The errno behind a failed connect, e.g. "ENETUNREACH". */
  readonly code?: string;
  readonly ms: number;
  readonly pass: boolean;
}

export interface ReachabilityReport {
  /** Every check passed. */
  readonly ok: boolean;
  /** Whether this lab can enforce the matrix at all (false on the loopback fallback). */
  readonly enforced: boolean;
  readonly firewall: FirewallKind;
  readonly checks: readonly ReachabilityCheck[];
  readonly failures: readonly ReachabilityCheck[];
  /** The JSON file the report was written to. */
  readonly file: string;
}

export interface VerifyOptions {
  /** Per connection attempt; 1500 ms by default. */
  readonly connectTimeoutMs?: number;
}

export interface VerifyHost {
  readonly runDir: string;
  readonly matrix: ReachabilityMatrix;
  readonly enforced: boolean;
  readonly firewall: FirewallKind;
  readonly processes: ProcessTable;
  address(role: Role): { readonly v4: string; readonly v6: string | undefined };
  /** The address to connect from, where the stack is shared (loopback); undefined otherwise. */
  sourceFor(role: Role, family: 4 | 6): string | undefined;
}

const AGENT = fileURLToPath(new URL('./probe-agent.ts', import.meta.url));
const START_TIMEOUT_MS = 10_000;

interface Agent {
  readonly proc: LabProcess;
  readonly lines: Interface;
  readonly queue: string[];
  readonly waiters: ((line: string | undefined) => void)[];
}

export async function verifyReachability(
  host: VerifyHost,
  options: VerifyOptions = {},
): Promise<ReachabilityReport> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 1_500;
  const agents = new Map<Role, Agent>();
  try {
    for (const role of ROLES) {
      const a = host.address(role);
      const listen = [a.v4, ...(a.v6 ? [a.v6] : [])];
      const proc = host.processes.spawn(
        role,
        process.execPath,
        [AGENT, JSON.stringify({ listen })],
        {
          name: 'reachability-probe',
          stdin: 'pipe',
          stdout: 'pipe',
        },
      );
      agents.set(role, agentOf(proc));
    }
    const ports = new Map<Role, Map<string, number>>();
    for (const [role, agent] of agents) {
      const msg = (await nextMessage(agent, START_TIMEOUT_MS)) as {
        listening: { address: string; port: number }[];
      };
      ports.set(role, new Map(msg.listening.map((l) => [l.address, l.port])));
    }

    const planned: Omit<ReachabilityCheck, 'outcome' | 'code' | 'ms' | 'pass'>[] = [];
    for (const { from, to, allowed } of expectedPairs(host.matrix)) {
      const a = host.address(to);
      for (const [family, address] of [
        [4, a.v4],
        [6, a.v6],
      ] as const) {
        if (address === undefined) continue;
        const port = ports.get(to)?.get(address);
        if (port === undefined) continue;
        planned.push({ from, to, family, address, port, expected: allowed ? 'open' : 'blocked' });
      }
    }
    const results = new Map<number, { outcome: ProbeOutcome; code?: string; ms: number }>();
    await Promise.all(
      ROLES.map(async (from) => {
        const agent = agents.get(from)!;
        const probes = planned
          .map((p, id) => ({ p, id }))
          .filter(({ p }) => p.from === from)
          .map(({ p, id }) => {
            const source = host.sourceFor(from, p.family);
            return { id, address: p.address, port: p.port, ...(source ? { source } : {}) };
          });
        agent.proc.child.stdin!.write(
          `${JSON.stringify({ timeoutMs: connectTimeoutMs, probes })}\n`,
        );
        const msg = (await nextMessage(agent, connectTimeoutMs + START_TIMEOUT_MS)) as {
          results: { id: number; outcome: ProbeOutcome; code?: string; ms: number }[];
        };
        for (const r of msg.results) results.set(r.id, r);
      }),
    );
    const checks: ReachabilityCheck[] = planned.map((p, id) => {
      const r = results.get(id) ?? { outcome: 'error' as const, code: 'no-result', ms: 0 };
      const pass =
        p.expected === 'open'
          ? r.outcome === 'connected'
          : r.outcome === 'unreachable' || r.outcome === 'timeout';
      return { ...p, outcome: r.outcome, ...(r.code ? { code: r.code } : {}), ms: r.ms, pass };
    });
    const failures = checks.filter((c) => !c.pass);
    let file = join(host.runDir, 'reachability.json');
    for (let n = 2; existsSync(file); n++) file = join(host.runDir, `reachability-${n}.json`);
    const report: ReachabilityReport = {
      ok: failures.length === 0,
      enforced: host.enforced,
      firewall: host.firewall,
      checks,
      failures,
      file,
    };
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    for (const agent of agents.values()) agent.proc.child.stdin?.end();
    await Promise.all([...agents.values()].map((a) => a.proc.stop(2_000)));
  }
}

function agentOf(proc: LabProcess): Agent {
  const lines = createInterface({ input: proc.child.stdout! });
  const agent: Agent = { proc, lines, queue: [], waiters: [] };
  lines.on('line', (line) => {
    const waiter = agent.waiters.shift();
    if (waiter) waiter(line);
    else agent.queue.push(line);
  });
  lines.on('close', () => {
    for (const w of agent.waiters.splice(0)) w(undefined);
  });
  return agent;
}

async function nextMessage(agent: Agent, timeoutMs: number): Promise<unknown> {
  const queued = agent.queue.shift();
  const line =
    queued ??
    (await new Promise<string | undefined>((resolve, reject) => {
      const timer = setTimeout(() => {
        agent.waiters.splice(agent.waiters.indexOf(waiter), 1);
        reject(
          new LabError(
            'timeout',
            `the ${agent.proc.role} probe did not answer within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const waiter = (l: string | undefined): void => {
        clearTimeout(timer);
        resolve(l);
      };
      agent.waiters.push(waiter);
    }));
  if (line === undefined) {
    throw new LabError(
      'command-failed',
      `the ${agent.proc.role} probe exited early (see ${agent.proc.stderrFile})`,
    );
  }
  return JSON.parse(line) as unknown;
}
