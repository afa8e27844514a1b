/**
 * Every text spelling of an address a relay could write. Which one a given program writes
 * depends on its language and library (Node writes RFC 5952 and `::ffff:a.b.c.d` for
 * IPv4-mapped peers; `inet_ntop` variants differ on single zero groups; some loggers expand),
 * so the search tries all of them.
 */
import { formatIPv4, formatIPv6 } from '@splitrelay/authority';

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

export function isIPv4Mapped(v6: Uint8Array): boolean {
  return v6.length === 16 && MAPPED_PREFIX.every((b, i) => v6[i] === b);
}

export function mappedIPv6(v4: Uint8Array): Uint8Array {
  return Uint8Array.from([...MAPPED_PREFIX, ...v4]);
}

export interface Spelling {
  readonly form: string;
  readonly text: string;
}

/** Dotted quad, the one 32-bit number inet_aton also reads, and the reverse-DNS name. */
export function ipv4Spellings(v4: Uint8Array): Spelling[] {
  const dotted = formatIPv4(v4);
  const integer =
    (((v4[0] as number) << 24) >>> 0) +
    ((v4[1] as number) << 16) +
    ((v4[2] as number) << 8) +
    (v4[3] as number);
  return [
    { form: 'dotted-quad', text: dotted },
    { form: 'integer', text: String(integer) },
    { form: 'reverse-dns', text: `${[...v4].reverse().join('.')}.in-addr.arpa` },
  ];
}

function groupsOf(v6: Uint8Array): number[] {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((v6[2 * i] as number) << 8) | (v6[2 * i + 1] as number));
  return groups;
}

/**
 * RFC 5952 (the canonical form), fully expanded, uncompressed without leading zeros, and `::`
 * at each other maximal run of zero groups (RFC 4291 §2.2 allows any one; some writers
 * compress a single zero group, or the first run rather than the longest). For IPv4-mapped
 * addresses also `::ffff:a.b.c.d` (how Node names an IPv4 peer on a dual-stack socket).
 */
export function ipv6Spellings(v6: Uint8Array): Spelling[] {
  const groups = groupsOf(v6);
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  const out: Spelling[] = [
    { form: 'rfc5952', text: formatIPv6(v6) },
    { form: 'expanded', text: groups.map((g) => g.toString(16).padStart(4, '0')).join(':') },
    { form: 'uncompressed', text: hex(groups) },
  ];
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    out.push({ form: 'compressed', text: `${hex(groups.slice(0, i))}::${hex(groups.slice(j))}` });
    i = j;
  }
  if (isIPv4Mapped(v6)) {
    out.push({ form: 'ipv4-mapped', text: `::ffff:${formatIPv4(v6.subarray(12))}` });
  }
  const nibbles: string[] = [];
  for (const b of v6) nibbles.push((b >> 4).toString(16), (b & 15).toString(16));
  out.push({ form: 'reverse-dns', text: `${nibbles.reverse().join('.')}.ip6.arpa` });
  const seen = new Set<string>();
  return out.filter((s) => (seen.has(s.text) ? false : (seen.add(s.text), true)));
}
