/**
 * What the harness's tests share: running the real CLI as a child, reading its report, and
 * checking that nothing of a lab is left on the machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Report } from '@splitrelay/evidence';

export const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** Git-ignored: screenshots and other artifacts of the test run. */
export const ARTIFACTS = fileURLToPath(new URL('../../../.audit/test-artifacts/', import.meta.url));

export const isRoot = process.getuid?.() === 0;
export const have = (binary: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The report the CLI named on its REPORT line. */
  readonly reportHtml?: string;
}

/** Runs splitrelay-audit; `onStderr` sees every progress line (to interrupt it, say). */
export function runCli(
  args: readonly string[],
  options: {
    timeoutMs?: number;
    onLine?: (line: string, child: ReturnType<typeof spawn>) => void;
  } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) options.onLine?.(l, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const reportHtml = /^REPORT (.+)$/m.exec(stdout)?.[1];
      resolve({ code, signal, stdout, stderr, ...(reportHtml ? { reportHtml } : {}) });
    });
  });
}

export function readReport(html: string): Report {
  return JSON.parse(readFileSync(html.replace(/report\.html$/, 'report.json'), 'utf8')) as Report;
}

/** The cells that are red, as "party/property". */
export function redCells(report: Report): string[] {
  return report.privacyTable.cells
    .filter((c) => c.result === 'fail')
    .map((c) => `${c.party}/${c.property}`)
    .sort();
}

/** Everything of a lab id still on the machine: namespaces, links, /etc/netns, processes. */
export function leftoversOf(labId: string): string[] {
  const out: string[] = [];
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  out.push(
    ...netns
      .split('\n')
      .filter((l) => l.includes(labId))
      .map((l) => `netns ${l}`),
  );
  const compact = labId.replace('-', '');
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout ?? '';
  out.push(
    ...links
      .split('\n')
      .filter((l) => l.includes(compact))
      .map((l) => `link ${l.slice(0, 60)}`),
  );
  try {
    out.push(
      ...readdirSync('/etc/netns')
        .filter((d) => d.includes(labId))
        .map((d) => `/etc/netns/${d}`),
    );
  } catch {
    // No /etc/netns at all: nothing left there.
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (env.includes(`SPLITRELAY_LAB=${labId}\0`))
        out.push(
          `process ${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').slice(0, 80)}`,
        );
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out;
}

/** The lab id a CLI run printed ("lab sra-1a2b3c (netns, …)"). */
export function labIdOf(stderr: string): string | undefined {
  return /lab (sra-[0-9a-f]{6}) /.exec(stderr)?.[1];
}
