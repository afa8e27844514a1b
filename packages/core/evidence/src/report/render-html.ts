/**
 * The report as one self-contained HTML page: inline CSS, no external assets, no script
 * (and a Content-Security-Policy that would block one, should escaping ever fail). Cells
 * and checks carry their result as a class (`cell pass`, `cell fail`, `check fail`, …) and
 * link to their evidence by anchor (`#ev-3`). Every string from the report is escaped.
 */
import { escapeHtml as h, safeId } from './escape.ts';
import { PARTY_NAMES, PROPERTY_NAMES, type PrivacyCell } from './privacy-table.ts';
import type { Report } from './report.ts';
import { RESULT_WORDS, yesNo } from './render-markdown.ts';
import type { EvidenceRef } from './verdict.ts';

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; }
th, td { border: 1px solid #c8c8c8; padding: .45rem .6rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.pass { background: #d9f2dc; }
.fail { background: #f8d4d4; }
.not-applicable { background: #eeeeee; }
.cannot-prove-from-outside { background: #fbf0c9; }
.result { font-weight: 700; }
.verdict { font-size: 1.2rem; font-weight: 700; padding: .6rem .8rem; border-radius: 4px; }
code { font: 13px ui-monospace, monospace; word-break: break-all; white-space: pre-wrap; }
.evidence li { margin: .35rem 0; }
.evidence li:target { outline: 2px solid #3461c1; }
a { color: #234ea8; }
`;

const links = (ids: readonly string[]): string =>
  ids.map((id) => `<a href="#${safeId(id)}">${h(id)}</a>`).join(' ');

function cellHtml(c: PrivacyCell): string {
  const id = safeId(`cell-${c.party}-${c.property}`);
  return (
    `<td class="cell ${c.result}" id="${id}"><span class="result">${RESULT_WORDS[c.result]}</span><br>` +
    `observed ${yesNo(c.observed)}, expected ${yesNo(c.expected)}` +
    (c.note === undefined ? '' : `<br>${h(c.note)}`) +
    (c.evidence.length > 0 ? `<br>${links(c.evidence)}` : '') +
    `</td>`
  );
}

function evidenceHtml(e: EvidenceRef): string {
  const where = [
    `file <code>${h(e.file)}</code>`,
    ...(e.packet === undefined ? [] : [`packet ${e.packet}`]),
    ...(e.offset === undefined ? [] : [`offset ${e.offset}`]),
  ].join(', ');
  return (
    `<li id="${safeId(e.id)}"><strong>${h(e.id)}</strong> ${where}` +
    (e.note === undefined ? '' : ` — ${h(e.note)}`) +
    (e.excerpt === undefined ? '' : `<br><code class="excerpt">${h(e.excerpt)}</code>`) +
    `</li>`
  );
}

export function renderHtml(report: Report): string {
  const s = report.summary;
  const t = report.privacyTable;
  const rows = t.parties.map((party) => {
    const cells = t.properties.map((property) => {
      const c = t.cells.find((x) => x.party === party && x.property === property);
      return c ? cellHtml(c) : '<td></td>';
    });
    return `<tr><th scope="row">${PARTY_NAMES[party]}</th>${cells.join('')}</tr>`;
  });
  const checks = report.checks.map(
    (c, i) =>
      `<tr class="check ${c.result}" id="check-${i + 1}"><td><code>${h(c.id)}</code></td>` +
      `<td>${h(c.statement)}${c.detail === undefined ? '' : `<br>${h(c.detail)}`}</td>` +
      `<td class="result">${RESULT_WORDS[c.result]}</td><td>${links(c.evidence)}</td></tr>`,
  );
  const verdictClass =
    report.verdict === 'pass'
      ? 'pass'
      : report.verdict === 'fail'
        ? 'fail'
        : 'cannot-prove-from-outside';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(report.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${h(report.title)}</h1>
<p class="verdict ${verdictClass}" id="verdict">Verdict: ${report.verdict.toUpperCase()} — ${s.redCells} red cell${s.redCells === 1 ? '' : 's'}; ${s.pass} pass, ${s.fail} fail, ${s['not-applicable']} not applicable, ${s['cannot-prove-from-outside']} cannot be proven from outside.</p>
<p>Generated ${h(report.generatedAt)}${report.subject === undefined ? '' : ` for ${h(report.subject)}`}.</p>
<h2>Privacy table (${h(t.source)})</h2>
<table class="privacy-table">
<tr><th>party</th>${t.properties.map((p) => `<th scope="col">${PROPERTY_NAMES[p]}</th>`).join('')}</tr>
${rows.join('\n')}
</table>
${(report.notes ?? []).map((n) => `<h2>${h(n.title)}</h2>\n<ul class="notes">\n${n.items.map((i) => `<li>${h(i)}</li>`).join('\n')}\n</ul>`).join('\n')}
<h2>Checks</h2>
<table class="checks">
<tr><th>check</th><th>statement</th><th>result</th><th>evidence</th></tr>
${checks.join('\n')}
</table>
<h2>Evidence</h2>
<ol class="evidence">
${report.evidence.map(evidenceHtml).join('\n')}
</ol>
</body>
</html>
`;
}
