/**
 * Which egress a new inner session goes to: a pure decision over the verified directory,
 * so the policy is testable without sockets: deciding is apart from dialling.
 */
import type { Entry } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';

export interface EgressPreference {
  /** A specific egress id, when the user asked for one. */
  readonly egressId?: string;
  /** Preferred region; other regions are used only when none here is usable. */
  readonly region?: string;
}

export function chooseEgress(
  entries: ReadonlyMap<string, Entry>,
  preference: EgressPreference,
  nowSeconds: number,
  avoid: ReadonlySet<string> = new Set(),
): Entry {
  const valid = [...entries.values()].filter(
    (e) => e.notBefore <= nowSeconds && nowSeconds < e.notAfter,
  );
  if (preference.egressId !== undefined) {
    const chosen = valid.find((e) => e.id === preference.egressId);
    if (!chosen)
      throw new RelayError(
        'unknown-egress',
        `egress ${preference.egressId} is not in the verified directory`,
      );
    return chosen;
  }
  const usable = valid.filter((e) => !avoid.has(e.id));
  const pool = usable.length > 0 ? usable : valid;
  const inRegion =
    preference.region !== undefined ? pool.filter((e) => e.region === preference.region) : [];
  const candidates = (inRegion.length > 0 ? inRegion : pool).sort((a, b) =>
    a.id.localeCompare(b.id),
  );
  const first = candidates[0];
  if (!first) throw new RelayError('unknown-egress', 'no valid egress in the verified directory');
  return first;
}
