/**
 * The report as Markdown: verdict line, the privacy table (each cell 🟢/🔴 with PASS/FAIL
 * in words, so it reads without colour), the checks, then the evidence, each item with an
 * anchor the table and checks link to. Every string is escaped with `escapeMarkdown`.
 */
import { escapeMarkdown as md, safeId } from './escape.ts';
import {
  PARTY_NAMES,
  PROPERTY_NAMES,
  type Observation,
  type PrivacyCell,
} from './privacy-table.ts';
import type { Report } from './report.ts';
import type { CheckResult, EvidenceRef } from './verdict.ts';

export const RESULT_WORDS: Readonly<Record<CheckResult, string>> = {
  pass: 'PASS',
  fail: 'FAIL',
  'not-applicable': 'N/A',
  'cannot-prove-from-outside': 'CANNOT PROVE FROM OUTSIDE',
};

const MARKS: Readonly<Record<CheckResult, string>> = {
  pass: '🟢',
  fail: '🔴',
  'not-applicable': '⚪',
  'cannot-prove-from-outside': '🟡',
};

export const yesNo = (v: boolean | Observation): string =>
  v === true ? 'yes' : v === false ? 'no' : v === 'unknown' ? 'unknown' : 'n/a';

const links = (ids: readonly string[]): string =>
  ids.map((id) => `[${safeId(id)}](#${safeId(id)})`).join(' ');

function cellText(c: PrivacyCell): string {
  const ev = c.evidence.length > 0 ? ` ${links(c.evidence)}` : '';
  return `${MARKS[c.result]} ${RESULT_WORDS[c.result]}: ${yesNo(c.observed)} (expected ${yesNo(c.expected)})${ev}`;
}

function evidenceLine(e: EvidenceRef): string {
  const where = [
    `file ${md(e.file)}`,
    ...(e.packet === undefined ? [] : [`packet ${e.packet}`]),
    ...(e.offset === undefined ? [] : [`offset ${e.offset}`]),
  ].join(', ');
  const note = e.note === undefined ? '' : ` — ${md(e.note)}`;
  const excerpt = e.excerpt === undefined ? '' : `: <code>${md(e.excerpt)}</code>`;
  return `- <a id="${safeId(e.id)}"></a>**${safeId(e.id)}** ${where}${note}${excerpt}`;
}

export function renderMarkdown(report: Report): string {
  const s = report.summary;
  const out: string[] = [
    `# ${md(report.title)}`,
    '',
    `**Verdict: ${report.verdict.toUpperCase()}** — ${s.redCells} red cell${s.redCells === 1 ? '' : 's'}; ` +
      `${s.pass} pass, ${s.fail} fail, ${s['not-applicable']} not applicable, ` +
      `${s['cannot-prove-from-outside']} cannot be proven from outside.`,
    '',
    `Generated ${md(report.generatedAt)}${report.subject === undefined ? '' : ` for ${md(report.subject)}`}.`,
    '',
    `## Privacy table (${md(report.privacyTable.source)})`,
    '',
    `| party | ${report.privacyTable.properties.map((p) => PROPERTY_NAMES[p]).join(' | ')} |`,
    `| --- | ${report.privacyTable.properties.map(() => '---').join(' | ')} |`,
  ];
  for (const party of report.privacyTable.parties) {
    const row = report.privacyTable.properties.map((property) => {
      const c = report.privacyTable.cells.find((x) => x.party === party && x.property === property);
      return c ? cellText(c) : '';
    });
    out.push(`| ${PARTY_NAMES[party]} | ${row.join(' | ')} |`);
  }
  for (const note of report.notes ?? []) {
    out.push('', `## ${md(note.title)}`, '');
    for (const item of note.items) out.push(`- ${md(item)}`);
  }
  out.push(
    '',
    '## Checks',
    '',
    '| check | statement | result | evidence |',
    '| --- | --- | --- | --- |',
  );
  for (const c of report.checks) {
    const detail = c.detail === undefined ? '' : ` (${md(c.detail)})`;
    out.push(
      `| ${md(c.id)} | ${md(c.statement)}${detail} | ${MARKS[c.result]} ${RESULT_WORDS[c.result]} | ${links(c.evidence)} |`,
    );
  }
  out.push('', '## Evidence', '');
  if (report.evidence.length === 0) out.push('None recorded.');
  for (const e of report.evidence) out.push(evidenceLine(e));
  return `${out.join('\n')}\n`;
}
