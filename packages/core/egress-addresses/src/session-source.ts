/**
 * Where a session's flows leave from: drawn ONCE per inner session, then the same for every
 * flow of that session.
 *
 * Why per session and not per flow: sites pin a login to the address it came from, so a
 * session whose flows each left from another address would be logged out or challenged at
 * every request; and the flows of one session are already linkable to each other (one TLS
 * session, one client), so sharing an address tells a site nothing new. Across sessions the
 * draws are independent and uniform, with no mapping from anything about the client (no
 * hash of a session id, token or account), so two sessions of the same user are as unlikely
 * to share an address as two sessions of different users. This is the source selection with
 * an entropy floor and no stable mappings that draft-scalone-cfr-source-privacy §10 asks for.
 *
 * Ports: the egress binds the address with port 0 and lets the kernel pick the port at
 * connect time (Linux randomises it per destination, RFC 6056 §3.3.4 with perturbation), so
 * the port adds its own entropy and no port is kept per session.
 */
import { drawSource, type Rng, type SourceAddress } from './draw.ts';
import { matchRegion, type GeoHint, type MatchedBy } from './geo-hint.ts';
import type { DrawCounters } from './metrics.ts';
import type { AddressPools, RegionPool } from './pools.ts';
import type { IpFamily } from './prefix.ts';

export interface SessionSource {
  readonly region: RegionPool;
  readonly matchedBy: MatchedBy;
  /**
   * The source for a flow to a target of this family, or undefined when the region has no
   * addresses of that family (the shell then refuses the flow or uses its fallback source).
   */
  sourceFor(family: IpFamily): SourceAddress | undefined;
}

export interface OpenSessionSourceOptions {
  readonly pools: AddressPools;
  readonly hint?: GeoHint | undefined;
  /** The hint field was present but did not parse (counted, never recorded). */
  readonly invalidHint?: boolean;
  readonly rng: Rng;
  readonly counters?: DrawCounters;
}

/** Chooses the region and draws both families' addresses for a new inner session. */
export function openSessionSource(options: OpenSessionSourceOptions): SessionSource {
  const { pools, rng, counters } = options;
  const { region, matchedBy } = matchRegion(pools, options.hint);
  counters?.session(matchedBy, options.invalidHint === true);
  // Both drawn now, so a session's first IPv6 flow costs nothing and the rng is only used
  // at session start; an unused draw reveals nothing.
  const v4 = region.ipv4 === undefined ? undefined : drawSource(region.ipv4, rng);
  const v6 = region.ipv6 === undefined ? undefined : drawSource(region.ipv6, rng);
  if (v4 !== undefined) counters?.draw(region.id, 4);
  if (v6 !== undefined) counters?.draw(region.id, 6);
  return Object.freeze({
    region,
    matchedBy,
    sourceFor: (family: IpFamily) => (family === 4 ? v4 : v6),
  });
}
