/** The report in its three forms, beside the evidence: report.json, report.md, report.html. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildReport,
  renderHtml,
  renderJson,
  renderMarkdown,
  type Report,
  type ReportInput,
} from '@splitrelay/evidence';

export interface ReportFiles {
  readonly json: string;
  readonly markdown: string;
  readonly html: string;
}

export function writeReport(
  dir: string,
  input: ReportInput,
): { report: Report; files: ReportFiles } {
  const report = buildReport(input);
  const files = {
    json: join(dir, 'report.json'),
    markdown: join(dir, 'report.md'),
    html: join(dir, 'report.html'),
  };
  writeFileSync(files.json, renderJson(report));
  writeFileSync(files.markdown, renderMarkdown(report));
  writeFileSync(files.html, renderHtml(report));
  return { report, files };
}

/** The command's exit code: non-zero on any red cell or failed check. */
export function exitCodeOf(report: Report): 0 | 1 {
  return report.verdict === 'fail' || report.summary.redCells > 0 ? 1 : 0;
}
