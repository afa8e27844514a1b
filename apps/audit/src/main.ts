#!/usr/bin/env node
/**
 * splitrelay-audit: the auditor's separation harness. Thin wiring: the command line in,
 * @splitrelay/audit does the work, the report's path out. Progress goes to stderr; stdout gets
 * one line, `REPORT <path to report.html>`, and a summary. Exit codes: 0 all green, 1 a red
 * cell or a failed check, 2 the harness could not run (usage, settings, a program that would
 * not start).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  analyzeRun,
  exitCodeOf,
  isAuditError,
  runLabAudit,
  runLiveAudit,
  writeReport,
  type ReportFiles,
} from '@splitrelay/audit';
import { sweepLabs } from '@splitrelay/lab';
import { parseArgs, USAGE, UsageError } from './args.ts';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const defaultEvidence = join(root, '.audit');
const progress = (line: string): void => void process.stderr.write(`[audit] ${line}\n`);

function summary(
  files: ReportFiles,
  report: { verdict: string; summary: Record<string, number> },
): void {
  process.stdout.write(`REPORT ${files.html}\n`);
  process.stdout.write(
    `verdict ${report.verdict.toUpperCase()}: ${report.summary.redCells} red cells; checks ${report.summary.pass} pass, ${report.summary.fail} fail, ${report.summary['not-applicable']} n/a, ${report.summary['cannot-prove-from-outside']} cannot prove from outside\n` +
      `also ${files.json} and ${files.markdown}\n`,
  );
}

async function main(): Promise<number> {
  const cmd = parseArgs(process.argv.slice(2));
  switch (cmd.command) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'lab': {
      const out = await runLabAudit({
        evidenceRoot: cmd.evidence ?? defaultEvidence,
        mode: cmd.mode,
        scenario: cmd.quick ? 'quick' : 'full',
        controls: cmd.controls,
        operatorConfigs: cmd.configs,
        log: progress,
      });
      summary(out.files, out.report);
      if (!out.clean) progress('the lab left something behind: run `splitrelay-audit sweep`');
      return out.exitCode;
    }
    case 'live': {
      const out = await runLiveAudit({
        settings: JSON.parse(readFileSync(cmd.settings, 'utf8')),
        evidenceRoot: cmd.evidence ?? defaultEvidence,
        scenario: cmd.quick ? 'quick' : 'full',
        log: progress,
      });
      summary(out.files, out.report);
      return out.exitCode;
    }
    case 'analyze': {
      const { report, files } = writeReport(cmd.dir, analyzeRun(cmd.dir));
      summary(files, report);
      return exitCodeOf(report);
    }
    case 'sweep': {
      const swept = await sweepLabs();
      for (const l of swept.labs) progress(`${l.id}: ${l.state}`);
      return swept.leftovers.length === 0 ? 0 : 1;
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `${err instanceof UsageError || isAuditError(err) ? (err as Error).message : String((err as Error)?.stack ?? err)}\n`,
    );
    process.exitCode = 2;
  },
);
