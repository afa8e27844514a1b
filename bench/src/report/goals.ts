/** The goals of issue 6, checked against the results (medians of per-round ratios). */
import type { Results } from './results.ts';
import { num } from './format.ts';
import { summarize } from './stats.ts';

export interface GoalRow {
  readonly goal: string;
  readonly measured: string;
  /** undefined: not measured in this run. */
  readonly met: boolean | undefined;
}

const SR = 'splitrelay';

function ratio(results: Results, figure: string, ref: string): number | undefined {
  const m = results.summary[figure]?.ratios[`${SR}/${ref}`]?.median;
  return m !== undefined && Number.isFinite(m) ? m : undefined;
}

/** Median over rounds of (SplitRelay − direct) for a latency figure. */
function overDirect(results: Results, figure: string): number | undefined {
  const d = results.rounds.flatMap((r) => {
    const mine = r.values[figure]?.[SR];
    const theirs = r.values[figure]?.direct;
    return mine !== undefined && theirs !== undefined ? [mine - theirs] : [];
  });
  return d.length > 0 ? summarize(d).median : undefined;
}

function row(
  goal: string,
  value: number | undefined,
  unit: string,
  ok: (v: number) => boolean,
): GoalRow {
  return value === undefined
    ? { goal, measured: 'not measured', met: undefined }
    : { goal, measured: `${num(value)}${unit}`, met: ok(value) };
}

export function checkGoals(results: Results): GoalRow[] {
  const rows: GoalRow[] = [];
  for (const dir of ['download', 'upload'] as const) {
    rows.push(
      row(
        `Bulk ${dir} ≥ 1.25× OpenSSH aes128-gcm`,
        ratio(results, `bulk.${dir}`, 'ssh-aes128-gcm'),
        '×',
        (v) => v >= 1.25,
      ),
    );
    rows.push(
      row(
        `Bulk ${dir} ≥ 2× OpenSSH default cipher (chacha20-poly1305)`,
        ratio(results, `bulk.${dir}`, 'ssh-chacha20'),
        '×',
        (v) => v >= 2,
      ),
    );
  }
  rows.push(
    row(
      'New flow first byte p50 within 1 ms of direct',
      overDirect(results, 'flow.p50'),
      ' ms over direct',
      (v) => v <= 1,
    ),
  );
  rows.push(
    row(
      'New flow first byte p90 within 2 ms of direct',
      overDirect(results, 'flow.p90'),
      ' ms over direct',
      (v) => v <= 2,
    ),
  );
  rows.push(
    row(
      'Concurrent flows aggregate ≥ 3× OpenSSH (aes128-gcm)',
      ratio(results, 'concurrent.aggregate', 'ssh-aes128-gcm'),
      '×',
      (v) => v >= 3,
    ),
  );
  rows.push(
    row(
      'Concurrent flows first-byte p99 ≤ ½ OpenSSH (aes128-gcm)',
      ratio(results, 'concurrent.p99', 'ssh-aes128-gcm'),
      '×',
      (v) => v <= 0.5,
    ),
  );
  rows.push(
    row(
      'Cold start ≤ ¼ of OpenSSH two-hop set-up (aes128-gcm)',
      ratio(results, 'cold', 'ssh-aes128-gcm'),
      '×',
      (v) => v <= 0.25,
    ),
  );
  const mem = results.memory;
  // A count that did not fully open measured something else: it judges nothing.
  const largest = (
    points:
      | { count: number; opened: number; perItemKiB: { ingress: number; egress: number } }[]
      | undefined,
  ) => {
    const last = points && points.length > 0 ? points[points.length - 1] : undefined;
    return last && last.opened === last.count ? last : undefined;
  };
  const flows = largest(mem?.idleFlows[SR]);
  const sessions = largest(mem?.sessions[SR]);
  rows.push(
    row(
      `Per idle flow ≤ 20 KiB at the egress (at ${flows?.count ?? '–'})`,
      flows?.perItemKiB.egress,
      ' KiB',
      (v) => v <= 20,
    ),
  );
  rows.push(
    row(
      `Per idle flow near zero at the ingress (≤ 1 KiB, at ${flows?.count ?? '–'})`,
      flows?.perItemKiB.ingress,
      ' KiB',
      (v) => v <= 1,
    ),
  );
  rows.push(
    row(
      `Per client session ≤ 64 KiB at the ingress (at ${sessions?.count ?? '–'})`,
      sessions?.perItemKiB.ingress,
      ' KiB',
      (v) => v <= 64,
    ),
  );
  return rows;
}
