/**
 * Canaries: the names, addresses, ports and payloads of one audit run, drawn fresh each run so
 * a finding can only come from this run's traffic (never from a stale file, another run or a
 * default). Pure: the randomness is injected.
 *
 * Every canary is built from a run tag (8 hex digits) plus a per-canary random part, and
 * lives under a zone no resolver knows (`.audit-canary.test`, RFC 6761 §6.2 reserves
 * `.test`), so only the canary's own DNS server answers for it.
 *
 *   target name      www-<tag>-<r>.audit-canary.test         the HTTPS, UDP and DNS target
 *   dns question     q-<tag>-<r>.audit-canary.test           asked of the canary DNS through the relays
 *   target address   a fresh host of the target's subnets    IPv4 and IPv6
 *   ports            HTTPS, UDP echo, DNS                     below the ephemeral range (32768+)
 *   payloads         path, header value, POST body, page, bulk marker, UDP payload
 *
 * The ports stay under 32768 so that no party's own ephemeral ports (Linux's default
 * ip_local_port_range is 32768–60999) can be mistaken for one; and above 20000, clear of
 * well-known services. Ports a deployment refuses are redrawn.
 */

export interface Canaries {
  readonly tag: string;
  readonly zone: string;
  readonly targetName: string;
  readonly dnsQuestion: string;
  readonly targetV4: string;
  readonly targetV6: string | undefined;
  readonly httpsPort: number;
  readonly udpPort: number;
  readonly dnsPort: number;
  /** Paths and values that only the target may read (TLS end to end from the client). */
  readonly path: string;
  readonly headerValue: string;
  readonly postBody: string;
  readonly page: string;
  readonly bulkMarker: string;
  /** Sent in clear over UDP to the echo port: the egress necessarily sees it. */
  readonly udpPayload: string;
}

export interface CanaryOptions {
  readonly rng: (n: number) => Uint8Array;
  /** Candidate IPv4 addresses for the target (free hosts of its subnet). */
  readonly targetV4Candidates: readonly string[];
  /** The target's IPv6 /64 prefix, e.g. "2001:db8:0:6:" (four groups and a colon), if any. */
  readonly targetV6Prefix?: string;
  /** Ports that must not be drawn (a deployment's denyPorts, ports in use). */
  readonly avoidPorts?: (port: number) => boolean;
  /** The zone the names live under: CANARY_ZONE in the lab; in a live audit, one the canary's DNS serves. */
  readonly zone?: string;
  /** A fixed DNS port (a live deployment's resolvers ask port 53); drawn when absent. */
  readonly dnsPort?: number;
}

export const CANARY_ZONE = 'audit-canary.test';
export const CANARY_PORT_RANGE = { min: 20000, max: 32767 } as const;
const MAX_DRAWS = 64;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A draw below `max` (at most 2^16 here): 32 random bits modulo it, bias below 2^-16. */
function draw(rng: (n: number) => Uint8Array, max: number): number {
  const b = rng(4);
  const n = (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
  return n % max;
}

export function generateCanaries(options: CanaryOptions): Canaries {
  const { rng } = options;
  if (options.targetV4Candidates.length === 0)
    throw new RangeError('no candidate target addresses');
  const tag = hex(rng(4));
  const part = (): string => hex(rng(3));
  const used = new Set<number>();
  const port = (): number => {
    for (let i = 0; i < MAX_DRAWS; i++) {
      const p =
        CANARY_PORT_RANGE.min + draw(rng, CANARY_PORT_RANGE.max - CANARY_PORT_RANGE.min + 1);
      if (used.has(p) || options.avoidPorts?.(p)) continue;
      used.add(p);
      return p;
    }
    throw new RangeError('no canary port left to draw');
  };
  const v6Host = (): string => {
    const g = rng(8);
    // Never ::, ::1 or ::2 (router, lab host): the first group is at least 0x100.
    const groups = [0, 2, 4, 6].map((i) => ((g[i] ?? 0) << 8) | (g[i + 1] ?? 0));
    groups[0] = (groups[0] ?? 0) | 0x100;
    return groups.map((x) => x.toString(16)).join(':');
  };
  const v4 = options.targetV4Candidates[draw(rng, options.targetV4Candidates.length)] as string;
  const zone = (options.zone ?? CANARY_ZONE).toLowerCase().replace(/\.$/, '');
  if (options.dnsPort !== undefined) used.add(options.dnsPort);
  return {
    tag,
    zone,
    targetName: `www-${tag}-${part()}.${zone}`,
    dnsQuestion: `q-${tag}-${part()}.${zone}`,
    targetV4: v4,
    targetV6:
      options.targetV6Prefix === undefined ? undefined : `${options.targetV6Prefix}${v6Host()}`,
    httpsPort: port(),
    udpPort: port(),
    dnsPort: options.dnsPort ?? port(),
    path: `/page-${tag}-${part()}`,
    headerValue: `hdr-${tag}-${part()}`,
    postBody: `body-${tag}-${part()}`,
    page: `page-${tag}-${part()}`,
    bulkMarker: `bulk-${tag}-${part()}`,
    udpPayload: `udp-${tag}-${part()}`,
  };
}
