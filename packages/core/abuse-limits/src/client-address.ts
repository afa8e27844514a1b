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
import { parseIPv6 } from '@splitrelay/authority';

export function clientAddressKey(remoteAddress: string): string {
  const text = remoteAddress.trim().toLowerCase();
  if (!text.includes(':')) return text;
  const zone = text.indexOf('%');
  const bytes = parseIPv6(zone >= 0 ? text.slice(0, zone) : text);
  if (bytes === undefined) return text;
  if (isMapped(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  // The /64 as its four leading groups: one spelling for every spelling of the address.
  const groups = [0, 2, 4, 6].map((i) =>
    (((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16),
  );
  return `${groups.join(':')}::/64`;
}

function isMapped(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}
