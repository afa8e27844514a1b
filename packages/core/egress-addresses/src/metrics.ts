/**
 * Draw counters: how many session draws each region and family served and how hints were
 * matched. Counters only, no per-session or per-flow record, so the numbers an egress
 * exports cannot be joined back to any one session's address.
 */
import type { MatchedBy } from './geo-hint.ts';
import type { IpFamily } from './prefix.ts';

export interface RegionCounts {
  ipv4: number;
  ipv6: number;
}

export interface DrawSnapshot {
  readonly sessions: number;
  readonly byRegion: Readonly<Record<string, Readonly<RegionCounts>>>;
  readonly matchedBy: Readonly<Record<MatchedBy, number>>;
  /** Sessions whose hint field was present but unusable. */
  readonly invalidHints: number;
}

export class DrawCounters {
  #sessions = 0;
  #invalidHints = 0;
  readonly #byRegion = new Map<string, RegionCounts>();
  readonly #matchedBy: Record<MatchedBy, number> = {
    geohash: 0,
    subdivision: 0,
    country: 0,
    default: 0,
  };

  session(matchedBy: MatchedBy, invalidHint: boolean): void {
    this.#sessions++;
    this.#matchedBy[matchedBy]++;
    if (invalidHint) this.#invalidHints++;
  }

  draw(region: string, family: IpFamily): void {
    let counts = this.#byRegion.get(region);
    if (counts === undefined) {
      counts = { ipv4: 0, ipv6: 0 };
      this.#byRegion.set(region, counts);
    }
    if (family === 4) counts.ipv4++;
    else counts.ipv6++;
  }

  /** A copy, for the stats log line or a metrics endpoint. */
  snapshot(): DrawSnapshot {
    const byRegion: Record<string, RegionCounts> = {};
    for (const [id, c] of this.#byRegion) byRegion[id] = { ...c };
    return {
      sessions: this.#sessions,
      byRegion,
      matchedBy: { ...this.#matchedBy },
      invalidHints: this.#invalidHints,
    };
  }
}
