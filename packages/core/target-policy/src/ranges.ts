/**
 * Built-in prohibited ranges, from the IANA special-purpose registries (RFC 6890 and
 * successors) plus what an egress in a cloud must never reach (metadata endpoints).
 * The longest matching prefix names the reason, so "169.254.169.254" says "cloud metadata"
 * rather than "link-local".
 */
import { cidr, cidrContains, type Cidr } from './cidr.ts';
import type { IpAddress } from './ip.ts';

export interface BuiltinRange {
  readonly cidr: Cidr;
  readonly text: string;
  readonly reason: string;
}

function table(rows: ReadonlyArray<readonly [string, string]>): readonly BuiltinRange[] {
  return Object.freeze(
    rows.map(([text, reason]) => Object.freeze({ cidr: cidr(text), text, reason })),
  );
}

export const builtinRanges: readonly BuiltinRange[] = table([
  // IPv4
  ['0.0.0.0/8', 'this network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared address space (CGNAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['169.254.169.254/32', 'cloud metadata'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['255.255.255.255/32', 'limited broadcast'],
  // IPv6. Everything outside 2000::/3 (global unicast) is special or unassigned, so the three
  // blocks around it catch whatever the specific rows below do not name.
  ['::/3', 'reserved'],
  ['4000::/2', 'reserved'],
  ['8000::/1', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'IPv4-compatible (deprecated)'],
  ['::ffff:0:0/96', 'IPv4-mapped'],
  ['::ffff:0:0:0/96', 'IPv4-translated'],
  ['64:ff9b::/96', 'NAT64'],
  ['64:ff9b:1::/48', 'NAT64 local-use'],
  ['100::/64', 'discard-only'],
  ['2001::/23', 'IETF protocol assignments'],
  ['2001::/32', 'Teredo'],
  ['2001:db8::/32', 'documentation'],
  ['2002::/16', '6to4'],
  ['3fff::/20', 'documentation'],
  ['fc00::/7', 'unique local'],
  ['fd00:ec2::254/128', 'cloud metadata'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
]);

/** Longest-prefix match in the built-in table, or undefined for an ordinary public address. */
export function builtinMatch(ip: IpAddress): BuiltinRange | undefined {
  let best: BuiltinRange | undefined;
  for (const r of builtinRanges) {
    if (cidrContains(r.cidr, ip) && (best === undefined || r.cidr.prefix > best.cidr.prefix))
      best = r;
  }
  return best;
}

/**
 * IPv6 forms that carry an IPv4 address whose position is fixed by the standard.
 * `mapped` is the local kernel itself connecting to the IPv4 address; the others reach it
 * through a translator somewhere on the path. The policy treats all four alike.
 *
 * 64:ff9b:1::/48 (RFC 8215) is absent on purpose: where its IPv4 sits depends on the prefix
 * length the operator carved out of it (RFC 6052 §2.2), so it cannot be decoded here.
 */
type Embedding = 'mapped' | 'translated' | 'nat64' | '6to4';

const embeddings: ReadonlyArray<{ kind: Embedding; cidr: Cidr; offset: number; label: string }> = [
  { kind: 'mapped', cidr: cidr('::ffff:0:0/96'), offset: 12, label: 'IPv4-mapped' },
  { kind: 'translated', cidr: cidr('::ffff:0:0:0/96'), offset: 12, label: 'IPv4-translated' },
  { kind: 'nat64', cidr: cidr('64:ff9b::/96'), offset: 12, label: 'NAT64' },
  { kind: '6to4', cidr: cidr('2002::/16'), offset: 2, label: '6to4' },
];

export interface EmbeddedIPv4 {
  readonly kind: Embedding;
  readonly label: string;
  readonly v4: IpAddress;
}

export function embeddedIPv4(ip: IpAddress): EmbeddedIPv4 | undefined {
  if (ip.family !== 6) return undefined;
  for (const e of embeddings) {
    if (cidrContains(e.cidr, ip)) {
      return {
        kind: e.kind,
        label: e.label,
        v4: { family: 4, bytes: ip.bytes.slice(e.offset, e.offset + 4) },
      };
    }
  }
  return undefined;
}
