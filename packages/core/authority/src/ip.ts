/**
 * Strict IP literal parsing, written here because cores may not import `node:net`.
 *
 * IPv4 (RFC 3986 §3.2.2 `IPv4address`): exactly four decimal octets, no leading zeros. The
 * lenient forms that inet_aton and WHATWG URL accept (`01.2.3.4` octal, `0x7f.1` hex,
 * `1.2.3` short, `2130706433` single number) are how private addresses get smuggled past
 * filters that compare text, so they are not IPv4 here.
 *
 * IPv6 (RFC 4291 §2.2): eight 1–4 digit hex groups, one optional `::`, and an optional
 * trailing dotted-quad. No zone ids (`%eth0`): a zone means nothing to a remote egress.
 * Output is the RFC 5952 text form, with embedded IPv4 written as hex like WHATWG URL does.
 */

const decOctet = /^(?:0|[1-9][0-9]{0,2})$/;
const hexGroup = /^[0-9A-Fa-f]{1,4}$/;

/** Longest IPv6 text: six groups and a dotted quad, `ffff:…:ffff:255.255.255.255`. */
const MAX_IPV6_TEXT = 45;

export function parseIPv4(text: string): Uint8Array | undefined {
  if (text.length < 7 || text.length > 15) return undefined;
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!decOctet.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function formatIPv4(bytes: Uint8Array): string {
  if (bytes.length !== 4) throw new RangeError('an IPv4 address is 4 bytes');
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

function parseGroups(parts: string[], allowTrailingIPv4: boolean): number[] | undefined {
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (allowTrailingIPv4 && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (v4 === undefined) return undefined;
      groups.push(((v4[0] as number) << 8) | (v4[1] as number));
      groups.push(((v4[2] as number) << 8) | (v4[3] as number));
    } else {
      if (!hexGroup.test(part)) return undefined;
      groups.push(parseInt(part, 16));
    }
  }
  return groups;
}

export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > MAX_IPV6_TEXT) return undefined;
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return undefined;

  let groups: number[];
  if (gap === -1) {
    const all = parseGroups(text.split(':'), true);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  } else {
    const head = text.slice(0, gap);
    const tail = text.slice(gap + 2);
    const before = head === '' ? [] : parseGroups(head.split(':'), false);
    const after = tail === '' ? [] : parseGroups(tail.split(':'), true);
    if (before === undefined || after === undefined) return undefined;
    // `::` stands for at least one zero group.
    const missing = 8 - before.length - after.length;
    if (missing < 1) return undefined;
    groups = [...before, ...new Array<number>(missing).fill(0), ...after];
  }

  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** RFC 5952 §4: lower case, no leading zeros, the first longest run of 2+ zero groups as `::`. */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError('an IPv6 address is 16 bytes');
  const groups: number[] = [];
  for (let i = 0; i < 8; i++)
    groups.push(((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number));

  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }

  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/**
 * An address as Node and `ss` print a peer: a dotted quad for IPv4 (4 bytes), RFC 5952 for
 * IPv6, and an IPv4-mapped address in the mixed notation RFC 5952 §5 recommends
 * (`::ffff:192.0.2.1`), which is how a dual-stack socket names an IPv4 peer.
 */
export function formatIpText(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIPv4(bytes);
  if (
    bytes.length === 16 &&
    bytes.subarray(0, 10).every((b) => b === 0) &&
    bytes[10] === 0xff &&
    bytes[11] === 0xff
  ) {
    return `::ffff:${formatIPv4(bytes.subarray(12))}`;
  }
  return formatIPv6(bytes);
}
