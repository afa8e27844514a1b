/**
 * The key a per-client limit counts by: the unit an abuser cannot cheaply multiply.
 *
 * - IPv4: the address itself (one subscriber line, or one NAT, has one).
 * - IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2, what a dual-stack Node socket
 *   reports for an IPv4 peer): the IPv4 address, so both spellings share one bucket.
 * - Any other IPv6: its /64 prefix. A subscriber is routinely given a whole /64 (RFC 6177,
 *   SLAAC needs one) and may pick any of its 2^64 addresses, so counting per address would
 *   let one client multiply itself at will.
 *
 * Input is Node's `socket.remoteAddress` form: dotted IPv4, or IPv6 text in any RFC 4291 §2.2
 * spelling (compressed or not, with an embedded IPv4 tail, with a `%zone`). The zone is dropped:
 * it names the local interface, not the peer. Text that is neither is returned as is (after
 * lower-casing), so it still gets a bucket of its own.
 */
export function clientAddressKey(remoteAddress: string): string {
  const text = remoteAddress.trim().toLowerCase();
  if (!text.includes(':')) return text;
  const zone = text.indexOf('%');
  const groups = parseIpv6(zone >= 0 ? text.slice(0, zone) : text);
  if (groups === undefined) return text;
  if (isMapped(groups)) {
    const hi = groups[6] as number;
    const lo = groups[7] as number;
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

function isMapped(groups: readonly number[]): boolean {
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
}

/** The eight 16-bit groups of an IPv6 address (RFC 4291 §2.2), or undefined if it is not one. */
function parseIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] as string, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] as string, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  // `::` stands for at least one group of zeros.
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** Colon-separated hex groups; the last may be a dotted IPv4 address (two groups). */
function parseGroups(text: string, ipv4TailAllowed: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (ipv4TailAllowed && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (/^[0-9a-f]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

function parseIpv4(text: string): [number, number, number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number) as [number, number, number, number];
  return octets.every((o) => o <= 255) ? octets : undefined;
}
