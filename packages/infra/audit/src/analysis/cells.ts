/**
 * The privacy table's cells, each decided by exactly the checks that bear on it (their
 * facets). For what a party must not learn (absence facets): observed "yes" when any such
 * check failed, "no" when all passed, "unknown" when none failed but one could not be made.
 * For what it must learn (presence facets): "yes" when the check passed. A cell no check
 * bears on stays "cannot prove from outside". Every cell carries its checks' evidence.
 */
import {
  PARTIES,
  PROPERTIES,
  type CellInput,
  type EvidenceInput,
  type Observation,
} from '@splitrelay/evidence';
import type { AuditCheck } from './checks.ts';

const MAX_CELL_EVIDENCE = 6;

export function buildCells(checks: readonly AuditCheck[]): CellInput[] {
  const cells: CellInput[] = [];
  for (const party of PARTIES) {
    for (const property of PROPERTIES) {
      const about = checks.filter((c) =>
        c.facets.some((f) => f.party === party && f.property === property),
      );
      if (about.length === 0) continue;
      const kind = about
        .flatMap((c) => c.facets)
        .find((f) => f.party === party && f.property === property)?.kind;
      let observed: Observation;
      let deciding: AuditCheck[];
      if (kind === 'presence') {
        const passed = about.filter((c) => c.result === 'pass');
        observed =
          passed.length > 0
            ? true
            : about.some((c) => c.result === 'cannot-prove-from-outside')
              ? 'unknown'
              : false;
        deciding = passed.length > 0 ? passed : about;
      } else {
        const failed = about.filter((c) => c.result === 'fail');
        const unknown = about.filter((c) => c.result === 'cannot-prove-from-outside');
        observed = failed.length > 0 ? true : unknown.length > 0 ? 'unknown' : false;
        deciding = failed.length > 0 ? failed : about;
      }
      const evidence: EvidenceInput[] = deciding
        .flatMap((c) => c.evidence ?? [])
        .slice(0, MAX_CELL_EVIDENCE);
      const note =
        observed === true && kind !== 'presence'
          ? `learned, by ${deciding.map((c) => c.id).join(', ')}`
          : observed === 'unknown'
            ? `not observable here: ${about
                .filter((c) => c.result === 'cannot-prove-from-outside')
                .map((c) => c.id)
                .join(', ')}`
            : `decided by ${deciding.map((c) => c.id).join(', ')}`;
      cells.push({ party, property, observed, evidence, checks: about.map((c) => c.id), note });
    }
  }
  return cells;
}
