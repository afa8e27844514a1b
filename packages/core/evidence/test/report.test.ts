import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  absenceCheck,
  buildReport,
  findLeaks,
  presenceCheck,
  renderHtml,
  renderJson,
  renderMarkdown,
  targetIdentities,
  type CellInput,
  type ReportInput,
} from '../src/index.ts';

const schema = JSON.parse(
  readFileSync(new URL('../src/report/report.schema.json', import.meta.url), 'utf8'),
) as object;
// Formats are checked below by hand: ajv's format vocabulary is a separate package.
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(
  schema,
);

const HOSTILE = `</td></tr></table><script>alert("x")</script><img src=x onerror='alert(1)'> | \`code\` *b* [l](javascript:x) &amp; \u0000\u001b`;

/** An audit where the ingress saw the target (red) and everything else held (green). */
function audit(ingressCapture: string): ReportInput {
  const ids = targetIdentities({ name: 'target.example', ip: '192.0.2.7', port: 4433 });
  const ingressSawTarget = findLeaks({ 'ingress.capture': ingressCapture }, ids);
  const ingressSawClient = findLeaks({ 'ingress.capture': ingressCapture }, [
    { kind: 'ip', address: '198.51.100.9' },
  ]);
  const egressSawClient = findLeaks(
    { 'egress.capture': 'CONNECT target.example:4433 from ingress' },
    [{ kind: 'ip', address: '198.51.100.9' }],
  );
  const checks = [
    absenceCheck('ingress-no-target', 'The ingress never learns the target', ingressSawTarget),
    presenceCheck(
      'ingress-sees-client',
      'The ingress sees the client (positive control)',
      ingressSawClient,
    ),
    absenceCheck(
      'egress-no-client',
      "The egress never learns the client's address",
      egressSawClient,
    ),
    {
      id: 'client-ingress-tls',
      statement: 'The client–ingress link is TLS 1.3 with X25519MLKEM768',
      result: 'pass' as const,
      evidence: [
        {
          file: 'client-ingress.pcap',
          packet: 4,
          offset: 1234,
          note: 'link client-ingress, ClientHello',
          excerpt: HOSTILE,
        },
      ],
    },
    {
      id: 'issuer-unlinkable',
      statement: 'The issuer cannot link issuance to redemption',
      result: 'cannot-prove-from-outside' as const,
      detail: 'blind signatures; only the protocol can prove this',
    },
  ];
  const cells: CellInput[] = [
    {
      party: 'ingress',
      property: 'knows-source',
      observed: ingressSawClient.length > 0,
      checks: ['ingress-sees-client'],
      evidence: checks[1]!.evidence,
    },
    {
      party: 'ingress',
      property: 'knows-destination',
      observed: ingressSawTarget.length > 0,
      checks: ['ingress-no-target'],
      evidence: checks[0]!.evidence,
    },
    { party: 'ingress', property: 'sees-content', observed: false },
    {
      party: 'egress',
      property: 'knows-source',
      observed: egressSawClient.length > 0,
      checks: ['egress-no-client'],
    },
    { party: 'egress', property: 'knows-destination', observed: true },
    { party: 'egress', property: 'sees-content', observed: false },
    { party: 'client', property: 'knows-source', observed: true },
    { party: 'client', property: 'knows-destination', observed: true },
    { party: 'client', property: 'sees-content', observed: true },
    { party: 'control-plane', property: 'sees-content', observed: 'not-applicable' },
  ];
  return {
    title: 'SplitRelay audit <run 7>',
    generatedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    subject: 'local deployment',
    cells,
    checks,
  };
}

const leakyRun =
  'peer 198.51.100.9:50000 CONNECT egress-1:443 x-leak: target.example:4433 ' + HOSTILE;
const cleanRun = 'peer 198.51.100.9:50000 CONNECT egress-1:443';

test('the report: verdicts, the table, and evidence ids', () => {
  const report = buildReport(audit(leakyRun));
  assert.equal(report.schemaVersion, 1);
  assert.equal(report.verdict, 'fail');
  assert.equal(report.summary.redCells, 1);
  const red = report.privacyTable.cells.filter((c) => c.result === 'fail');
  assert.deepEqual(
    red.map((c) => `${c.party}/${c.property}`),
    ['ingress/knows-destination'],
  );
  assert.ok(red[0]!.evidence.length > 0);
  for (const id of red[0]!.evidence) assert.ok(report.evidence.some((e) => e.id === id));
  assert.equal(report.privacyTable.cells.length, 15);
  const issuer = report.privacyTable.cells.find(
    (c) => c.party === 'issuer' && c.property === 'knows-source',
  )!;
  assert.equal(issuer.result, 'cannot-prove-from-outside');
  assert.equal(report.checks.find((c) => c.id === 'ingress-no-target')!.result, 'fail');
  const clean = buildReport(audit(cleanRun));
  assert.equal(clean.summary.redCells, 0);
  assert.equal(clean.verdict, 'inconclusive');
  assert.throws(
    () =>
      buildReport({
        ...audit(cleanRun),
        cells: [{ party: 'client', property: 'sees-content', observed: true, checks: ['nope'] }],
      }),
    RangeError,
  );
});

test('JSON validates against report.schema.json; a broken report does not', () => {
  for (const run of [leakyRun, cleanRun]) {
    const json = JSON.parse(renderJson(buildReport(audit(run)))) as Record<string, unknown>;
    assert.ok(validate(json), JSON.stringify(validate.errors));
    assert.match(String(json.generatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  }
  const json = JSON.parse(renderJson(buildReport(audit(leakyRun)))) as {
    schemaVersion: number;
    privacyTable: { cells: { result: string }[] };
    extra?: number;
  };
  for (const broken of [
    { ...json, schemaVersion: 2 },
    { ...json, extra: 1 },
    {
      ...json,
      privacyTable: {
        ...json.privacyTable,
        cells: [{ ...json.privacyTable.cells[0], result: 'green' }],
      },
    },
  ]) {
    assert.equal(validate(broken), false);
  }
});

test('a report with one red cell says so in JSON, Markdown and HTML', () => {
  const report = buildReport(audit(leakyRun));
  const json = JSON.parse(renderJson(report)) as typeof report;
  assert.equal(json.verdict, 'fail');
  assert.equal(json.summary.redCells, 1);

  const md = renderMarkdown(report);
  assert.match(md, /\*\*Verdict: FAIL\*\* — 1 red cell;/);
  const ingressRow = md.split('\n').find((l) => l.startsWith('| ingress |'))!;
  const cells = ingressRow.split(' | ');
  assert.match(cells[2]!, /^🔴 FAIL: yes \(expected no\) \[ev-\d+\]\(#ev-\d+\)/);
  assert.match(cells[1]!, /^🟢 PASS: yes \(expected yes\)/);
  assert.equal((md.match(/🔴 FAIL/g) ?? []).length, 2, 'the red cell and its failed check');

  const html = renderHtml(report);
  assert.equal((html.match(/class="cell fail"/g) ?? []).length, 1);
  assert.match(
    html,
    /<td class="cell fail" id="cell-ingress-knows-destination"><span class="result">FAIL<\/span>/,
  );
  assert.ok((html.match(/class="cell pass"/g) ?? []).length >= 8);
  assert.match(html, /<p class="verdict fail" id="verdict">Verdict: FAIL — 1 red cell;/);
  // Evidence is linked by anchor, and every linked anchor exists.
  const hrefs = [...html.matchAll(/href="#(ev-\d+)"/g)].map((m) => m[1]);
  assert.ok(hrefs.length > 0);
  for (const id of hrefs) assert.ok(html.includes(`<li id="${id}">`), `anchor ${id}`);
});

test('hostile excerpts are escaped in every form', () => {
  const report = buildReport(audit(leakyRun));
  assert.ok(
    report.evidence.some((e) => e.excerpt?.includes('<script>')),
    'the excerpt really is hostile',
  );

  const html = renderHtml(report);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  assert.match(html, /<title>SplitRelay audit &lt;run 7&gt;<\/title>/);
  // Self-contained: no external fetch, and a policy that forbids scripts anyway.
  assert.doesNotMatch(html, /<link|src="http|<script/i);
  assert.match(
    html,
    /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/,
  );
  // Only the tags the renderer writes.
  const tags = new Set([...html.matchAll(/<\/?([a-z0-9]+)/gi)].map((m) => m[1]!.toLowerCase()));
  assert.deepEqual(
    [...tags].filter(
      (t) =>
        ![
          'html',
          'head',
          'meta',
          'title',
          'style',
          'body',
          'h1',
          'h2',
          'p',
          'table',
          'tr',
          'th',
          'td',
          'span',
          'br',
          'a',
          'code',
          'ol',
          'li',
          'strong',
        ].includes(t),
    ),
    [],
  );

  const md = renderMarkdown(report);
  assert.doesNotMatch(md, /<script|<img|<\/td>/i);
  // Table rows stay rows: no raw pipe or newline from the excerpt.
  const evidenceLines = md.split('\n').filter((l) => l.includes('alert'));
  assert.ok(evidenceLines.length > 0);
  for (const l of evidenceLines)
    assert.doesNotMatch(l.replace(/<\/?code>|<a id="ev-\d+"><\/a>/g, ''), /[<>|`]/);

  const json = renderJson(report);
  assert.ok(JSON.parse(json));
  // Control characters in excerpts are made printable before any renderer sees them.
  assert.doesNotMatch(json, /\\u0000|\\u001b/);
});

test('notes (limitations, changed settings) appear in every form, escaped, and validate', () => {
  const plain = buildReport(audit(cleanRun));
  assert.equal('notes' in plain, false, 'no notes, no field');
  const report = buildReport({
    ...audit(cleanRun),
    notes: [
      { title: 'Limitations', items: ['evidence is weaker on loopback', HOSTILE] },
      { title: 'Settings the lab changed', items: [] },
    ],
  });
  const json = JSON.parse(renderJson(report)) as Record<string, unknown>;
  assert.ok(validate(json), JSON.stringify(validate.errors));
  assert.deepEqual(
    (json.notes as { title: string }[]).map((n) => n.title),
    ['Limitations', 'Settings the lab changed'],
  );
  assert.equal(validate({ ...json, notes: [{ title: 'x', items: [1] }] }), false);

  const html = renderHtml(report);
  assert.match(
    html,
    /<h2>Limitations<\/h2>\n<ul class="notes">\n<li>evidence is weaker on loopback<\/li>/,
  );
  assert.doesNotMatch(html, /<script|<img/i);

  const md = renderMarkdown(report);
  assert.match(md, /## Limitations\n\n- evidence is weaker on loopback\n- /);
  assert.doesNotMatch(md, /<script|<img|<\/td>/i);
});
