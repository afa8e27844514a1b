/**
 * The report: the privacy table, the checks, and one list of evidence they point into (so
 * each piece of evidence has one anchor). Built once from inputs, then rendered as JSON
 * (`report.schema.json`), Markdown or HTML. The time is injected: a core reads no clock.
 */
import {
  EXPECTED,
  PARTIES,
  PROPERTIES,
  cellResult,
  type CellInput,
  type Party,
  type PrivacyCell,
  type Property,
} from './privacy-table.ts';
import {
  MAX_EXCERPT,
  type Check,
  type CheckInput,
  type CheckResult,
  type EvidenceInput,
  type EvidenceRef,
} from './verdict.ts';

export const REPORT_SCHEMA_VERSION = 1;

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface Report {
  readonly schemaVersion: typeof REPORT_SCHEMA_VERSION;
  readonly title: string;
  /** ISO 8601, from the caller's clock. */
  readonly generatedAt: string;
  readonly subject?: string;
  /** fail if any cell or check fails; inconclusive if none fails but some cannot be proven. */
  readonly verdict: Verdict;
  readonly summary: Readonly<Record<CheckResult, number>> & { readonly redCells: number };
  readonly privacyTable: {
    readonly source: string;
    readonly parties: readonly Party[];
    readonly properties: readonly Property[];
    readonly cells: readonly PrivacyCell[];
  };
  /** Sections of plain statements the reader must see: limitations, settings changed, … */
  readonly notes?: readonly ReportNote[];
  readonly checks: readonly Check[];
  readonly evidence: readonly EvidenceRef[];
}

export interface ReportNote {
  readonly title: string;
  readonly items: readonly string[];
}

export interface ReportInput {
  readonly title: string;
  readonly generatedAt: Date | string;
  readonly subject?: string;
  /** Cells not given are "cannot prove from outside", with no evidence. */
  readonly cells: readonly CellInput[];
  readonly checks: readonly CheckInput[];
  readonly notes?: readonly ReportNote[];
}

const TABLE_SOURCE = 'draft-scalone-cfr-source-privacy, Table 1';

/** Excerpts are capped and freed of control characters (renderers still escape the rest). */
function cleanExcerpt(s: string): string {
  // Control characters would make the JSON and Markdown hard to read; they become '.'.
  // eslint-disable-next-line no-control-regex
  const printable = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '.');
  return printable.length > MAX_EXCERPT ? `${printable.slice(0, MAX_EXCERPT)}…` : printable;
}

export function buildReport(input: ReportInput): Report {
  const evidence: EvidenceRef[] = [];
  const register = (list: readonly EvidenceInput[] | undefined): string[] =>
    (list ?? []).map((e) => {
      const id = `ev-${evidence.length + 1}`;
      evidence.push({
        id,
        ...e,
        ...(e.excerpt === undefined ? {} : { excerpt: cleanExcerpt(e.excerpt) }),
      });
      return id;
    });

  const ids = new Set<string>();
  const checks: Check[] = input.checks.map((c) => {
    if (ids.has(c.id)) throw new RangeError(`duplicate check id ${c.id}`);
    ids.add(c.id);
    return {
      id: c.id,
      statement: c.statement,
      result: c.result,
      evidence: register(c.evidence),
      ...(c.detail === undefined ? {} : { detail: c.detail }),
    };
  });

  const given = new Map<string, CellInput>();
  for (const c of input.cells) {
    const k = `${c.party}/${c.property}`;
    if (given.has(k)) throw new RangeError(`cell ${k} given twice`);
    given.set(k, c);
  }
  const cells: PrivacyCell[] = [];
  for (const party of PARTIES) {
    for (const property of PROPERTIES) {
      const c = given.get(`${party}/${property}`);
      const expected = EXPECTED[party][property];
      const observed = c?.observed ?? 'unknown';
      for (const id of c?.checks ?? [])
        if (!ids.has(id)) throw new RangeError(`cell names unknown check ${id}`);
      cells.push({
        party,
        property,
        expected,
        observed,
        result: cellResult(expected, observed),
        evidence: register(c?.evidence),
        checks: c?.checks ?? [],
        ...(c?.note === undefined ? {} : { note: c.note }),
      });
    }
  }

  const summary = {
    pass: 0,
    fail: 0,
    'not-applicable': 0,
    'cannot-prove-from-outside': 0,
    redCells: 0,
  };
  for (const r of [...checks, ...cells]) summary[r.result]++;
  summary.redCells = cells.filter((c) => c.result === 'fail').length;
  const verdict: Verdict =
    summary.fail > 0 ? 'fail' : summary['cannot-prove-from-outside'] > 0 ? 'inconclusive' : 'pass';
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    title: input.title,
    generatedAt:
      typeof input.generatedAt === 'string' ? input.generatedAt : input.generatedAt.toISOString(),
    ...(input.subject === undefined ? {} : { subject: input.subject }),
    verdict,
    summary,
    privacyTable: { source: TABLE_SOURCE, parties: PARTIES, properties: PROPERTIES, cells },
    ...(input.notes === undefined || input.notes.length === 0
      ? {}
      : { notes: input.notes.map((n) => ({ title: n.title, items: [...n.items] })) }),
    checks,
    evidence,
  };
}

export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
