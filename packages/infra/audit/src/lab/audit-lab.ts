/**
 * The lab mode: SplitRelay's real apps with real configs, one network namespace per role,
 * every link captured, every party observed, everything torn down after (also on Ctrl-C or a
 * crash: the lab's exit hooks and its sweep).
 *
 *   openAuditLab()           builds the namespaces once, checks the trust model in the kernel,
 *                            adds the second egress's address
 *   auditLab.run(name, …)    one audit run in its own evidence folder: fresh canaries, PKI,
 *                            passwords and processes; the scenario; the report
 *   auditLab.close()         tears the lab down
 *
 * Several runs can share one lab (the negative controls do): each starts and stops all of its
 * processes and captures, so nothing of one run is in another's evidence.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createLab, type Lab, type LabSpec, type ReachabilityReport } from '@splitrelay/lab';
import { AuditError } from '../audit-error.ts';
import { analyzeRun } from '../analysis/analyze.ts';
import { type ControlName } from '../controls.ts';
import { exitCodeOf, writeReport, type ReportFiles } from '../report-files.ts';
import type { ScenarioName } from '../scenario.ts';
import type { Report } from '@splitrelay/evidence';
import { runInLab } from './lab-run.ts';

export interface OperatorConfigFiles {
  readonly ingress?: string;
  readonly egress?: string;
  readonly issuer?: string;
}

export interface AuditLabOptions {
  readonly evidenceRoot?: string;
  readonly mode?: LabSpec['mode'];
  readonly rng?: (n: number) => Uint8Array;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
  /** Destroy the lab on signals and exit (default true). */
  readonly exitHooks?: boolean;
}

export interface RunOptions {
  readonly scenario?: ScenarioName;
  readonly controls?: readonly ControlName[];
  readonly operatorConfigs?: OperatorConfigFiles;
  /** The evidence folder; <lab run folder>/audits/<name> by default. */
  readonly dir?: string;
  readonly bulkBytes?: number;
}

export interface AuditOutcome {
  readonly name: string;
  readonly dir: string;
  readonly report: Report;
  readonly files: ReportFiles;
  readonly exitCode: 0 | 1;
}

export interface AuditLab {
  readonly lab: Lab;
  readonly reachability: ReachabilityReport | undefined;
  run(name: string, options?: RunOptions): Promise<AuditOutcome>;
  close(): Promise<{ ok: boolean; leftovers: readonly unknown[] }>;
}

/** The second egress's address beside the first: same subnet, next host. */
export const SECOND_EGRESS = { v4: '198.51.100.19', v6: '2001:db8:0:3::3' } as const;

export async function openAuditLab(options: AuditLabOptions = {}): Promise<AuditLab> {
  const log = options.log ?? (() => {});
  const lab = await createLab({
    ...(options.evidenceRoot ? { evidenceRoot: options.evidenceRoot } : {}),
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.rng ? { rng: options.rng } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.exitHooks === false ? { exitHooks: false } : {}),
  });
  log(`lab ${lab.id} (${lab.mode}, filter ${lab.firewall}) in ${lab.runDir}`);
  try {
    let reachability: ReachabilityReport | undefined;
    if (lab.mode === 'netns') {
      reachability = await lab.verifyReachability();
      // An allowed pair that timed out once (a first SYN lost on a veth just made) is tried
      // again; a forbidden pair that opened, or an allowed one refused, is never retried.
      if (
        !reachability.ok &&
        reachability.failures.every((f) => f.expected === 'open' && f.outcome === 'timeout')
      ) {
        log(
          `reachability: ${reachability.failures.length} allowed pairs timed out once; checking again`,
        );
        reachability = await lab.verifyReachability();
      }
      log(
        `trust model in the kernel: ${reachability.ok ? 'enforced' : 'NOT enforced'} (${reachability.checks.length} checks)`,
      );
      const egressIf = lab.links().find((l) => l.role === 'egress')?.roleEnd.ifname;
      if (!egressIf) throw new AuditError('start-failed', 'the lab has no egress link');
      for (const args of [
        ['addr', 'add', `${SECOND_EGRESS.v4}/28`, 'dev', egressIf],
        ['-6', 'addr', 'add', `${SECOND_EGRESS.v6}/64`, 'dev', egressIf, 'nodad'],
      ]) {
        const r = await lab.exec('egress', 'ip', args);
        if (r.code !== 0) throw new AuditError('start-failed', `ip ${args.join(' ')}: ${r.stderr}`);
      }
    }
    const rng = options.rng ?? ((n: number) => Uint8Array.from(randomBytes(n)));
    const now = options.now ?? (() => new Date());
    const usedTargets = new Set<string>();
    return {
      lab,
      reachability,
      async run(name, runOptions = {}) {
        const dir = runOptions.dir ?? join(lab.runDir, 'audits', name);
        mkdirSync(dir, { recursive: true });
        log(`run ${name}: evidence in ${dir}`);
        const record = await runInLab({
          lab,
          dir,
          rng,
          now,
          log: (line) => log(`[${name}] ${line}`),
          scenario: runOptions.scenario ?? 'full',
          controls: runOptions.controls ?? [],
          operatorConfigs: runOptions.operatorConfigs ?? {},
          bulkBytes: runOptions.bulkBytes ?? 2 * 1024 * 1024,
          usedTargets,
          secondEgress:
            lab.mode === 'netns' ? SECOND_EGRESS.v4 : loopbackNeighbour(lab.address('egress').v4),
          ...(lab.mode === 'loopback'
            ? {
                reachability: {
                  file: relative(dir, join(lab.runDir, 'lab.json')),
                  ok: false,
                  enforced: false,
                  summary:
                    'loopback fallback: no namespaces, so no routes or filter stand between the roles and the trust model is not enforced',
                },
              }
            : {}),
          ...(reachability
            ? {
                reachability: {
                  file: relative(dir, reachability.file),
                  ok: reachability.ok,
                  enforced: reachability.enforced,
                  summary: `${reachability.checks.length} reachability checks, ${reachability.failures.length} failures, filter ${reachability.firewall}`,
                },
              }
            : {}),
        });
        writeFileSync(join(dir, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
        const { report, files } = writeReport(dir, analyzeRun(dir, record, now));
        log(
          `run ${name}: verdict ${report.verdict}, ${report.summary.redCells} red cells; report ${files.html}`,
        );
        return { name, dir, report, files, exitCode: exitCodeOf(report) };
      },
      async close() {
        const d = await lab.destroy();
        log(
          `lab ${lab.id} destroyed${d.ok ? '' : `, leftovers: ${JSON.stringify(d.cleanup.leftovers)}`}`,
        );
        return { ok: d.ok, leftovers: d.cleanup.leftovers };
      },
    };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

/**
 * On loopback every 127/8 address is local: the second egress takes last octet 90 + the
 * egress's (…93). No role address (.1–.7) is a text prefix of it, which matters because the
 * search matches text inside base64 without the boundaries it keeps in plain text.
 */
function loopbackNeighbour(v4: string): string {
  const parts = v4.split('.').map(Number);
  parts[3] = 90 + (parts[3] ?? 0);
  return parts.join('.');
}

/** One whole lab audit: build, run, report, tear down. */
export async function runLabAudit(
  options: AuditLabOptions & RunOptions & { readonly name?: string },
): Promise<AuditOutcome & { readonly labId: string; readonly clean: boolean }> {
  const auditLab = await openAuditLab(options);
  try {
    const outcome = await auditLab.run(options.name ?? 'lab', {
      ...options,
      dir: options.dir ?? auditLab.lab.runDir,
    });
    const closed = await auditLab.close();
    return { ...outcome, labId: auditLab.lab.id, clean: closed.ok };
  } catch (err) {
    await auditLab.close();
    throw err;
  }
}
