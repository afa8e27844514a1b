/**
 * Which egress a new inner session goes to: a pure decision over the verified directory,
 * so the policy is testable without sockets: deciding is apart from dialling.
 *
 * Candidates are ranked, most important first:
 *   1. not avoided: not failed in this attempt, not reported down or draining
 *   2. in the preferred region (the entry's `region`), so a failure is retried within the
 *      region before any other region is tried
 *   3. serving the client's country (the entry's `serves` holds it or a subdivision of it),
 *      so the geo hint the client sends can be honoured with an address of that country
 *   4. reported up by the ingress (before egresses whose health is not known)
 *   5. the lowest id, so the same directory always gives the same answer
 * When every valid egress is avoided, the ranking runs again without rule 1: a retry still
 * has somewhere to go.
 */
import type { Entry } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';

export interface EgressPreference {
  /** A specific egress id, when the user asked for one. */
  readonly egressId?: string;
  /** Preferred region; other regions are used only when none here is usable. */
  readonly region?: string;
  /**
   * The client's country (ISO 3166-1 alpha-2), when its location setting shares one: egresses
   * whose addresses geolocate there are preferred within the region.
   */
  readonly country?: string;
}

/** Egress health as the ingress reports it: 'up', 'down', 'draining' or 'unknown'. */
export type EgressHealth = ReadonlyMap<string, string>;

function servesCountry(entry: Entry, country: string | undefined): boolean {
  if (country === undefined || entry.serves === undefined) return false;
  return entry.serves.some((code) => code === country || code.startsWith(`${country}-`));
}

export function chooseEgress(
  entries: ReadonlyMap<string, Entry>,
  preference: EgressPreference,
  nowSeconds: number,
  avoid: ReadonlySet<string> = new Set(),
  health: EgressHealth = new Map(),
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
  const unhealthy = (e: Entry): boolean => {
    const status = health.get(e.id);
    return status === 'down' || status === 'draining';
  };
  const usable = valid.filter((e) => !avoid.has(e.id) && !unhealthy(e));
  const pool = usable.length > 0 ? usable : valid;
  const country = preference.country?.toUpperCase();
  /** Lower is better, rule by rule; the id breaks ties. */
  const rank = (e: Entry): number[] => [
    preference.region !== undefined && e.region === preference.region ? 0 : 1,
    servesCountry(e, country) ? 0 : 1,
    health.get(e.id) === 'up' ? 0 : 1,
  ];
  const ranked = pool
    .map((e) => ({ e, r: rank(e) }))
    .sort((a, b) => {
      for (let i = 0; i < a.r.length; i++) {
        const d = (a.r[i] as number) - (b.r[i] as number);
        if (d !== 0) return d;
      }
      return a.e.id.localeCompare(b.e.id);
    });
  const first = ranked[0];
  if (!first) throw new RelayError('unknown-egress', 'no valid egress in the verified directory');
  return first.e;
}
