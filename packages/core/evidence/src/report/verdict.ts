/**
 * The verdict model. A check is one claim the auditor tests ("the ingress never saw the
 * target"), with its result and the evidence behind it. Results are four, because from
 * outside a process some claims cannot be proven either way, and saying so is part of an
 * honest report:
 *   pass                       the evidence shows the claim holds
 *   fail                       the evidence shows it does not (and points at where)
 *   not-applicable             the claim does not arise in this deployment
 *   cannot-prove-from-outside  no evidence reachable from outside can settle it
 */
import type { Finding } from '../search/find-leaks.ts';

export type CheckResult = 'pass' | 'fail' | 'not-applicable' | 'cannot-prove-from-outside';

export const CHECK_RESULTS: readonly CheckResult[] = [
  'pass',
  'fail',
  'not-applicable',
  'cannot-prove-from-outside',
];

/** Where a piece of evidence is: a file (capture, log), and a packet and/or a byte offset. */
export interface EvidenceInput {
  readonly file: string;
  readonly packet?: number;
  readonly offset?: number;
  /** A short excerpt of what is there: hostile input, escaped by every renderer. */
  readonly excerpt?: string;
  /** What this shows, e.g. "link client-ingress, ClientHello". */
  readonly note?: string;
}

export interface EvidenceRef extends EvidenceInput {
  /** `ev-N`, unique within a report: the anchor renderers link to. */
  readonly id: string;
}

export interface CheckInput {
  readonly id: string;
  readonly statement: string;
  readonly result: CheckResult;
  readonly evidence?: readonly EvidenceInput[];
  readonly detail?: string;
}

export interface Check {
  readonly id: string;
  readonly statement: string;
  readonly result: CheckResult;
  /** Ids of entries in the report's `evidence`. */
  readonly evidence: readonly string[];
  readonly detail?: string;
}

/** Longest excerpt kept: enough to read the leak, not a dump. */
export const MAX_EXCERPT = 200;

/** A leak finding as evidence: which file, where, and the context around it. */
export function findingEvidence(
  finding: Finding & { packet?: number; fileOffset?: number },
  file?: string,
): EvidenceInput {
  const packet = finding.packet !== undefined && finding.packet > 0 ? finding.packet : undefined;
  return {
    file: file ?? finding.haystack,
    ...(packet === undefined ? {} : { packet }),
    offset:
      finding.fileOffset !== undefined && finding.fileOffset >= 0
        ? finding.fileOffset
        : finding.offset,
    excerpt: finding.context,
    note: `${finding.identity} as ${finding.encoding} (${finding.form})${file === undefined ? '' : ` in ${finding.haystack}`}`,
  };
}

/**
 * A "must never appear" check from a leak search: pass when nothing was found, fail with
 * every finding as evidence otherwise.
 */
export function absenceCheck(
  id: string,
  statement: string,
  findings: readonly (Finding & { packet?: number; fileOffset?: number })[],
  file?: string,
): CheckInput {
  return {
    id,
    statement,
    result: findings.length === 0 ? 'pass' : 'fail',
    evidence: findings.map((f) => findingEvidence(f, file)),
  };
}

/** A "must appear" check (a positive control): pass when something was found. */
export function presenceCheck(
  id: string,
  statement: string,
  findings: readonly (Finding & { packet?: number; fileOffset?: number })[],
  file?: string,
): CheckInput {
  return {
    id,
    statement,
    result: findings.length > 0 ? 'pass' : 'fail',
    evidence: findings.slice(0, 3).map((f) => findingEvidence(f, file)),
  };
}
