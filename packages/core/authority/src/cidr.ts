/**
 * Address prefixes (CIDR, RFC 4632 §3.1 and RFC 4291 §2.3): "10.0.0.0/8", "2001:db8::/32".
 * The one reading of a prefix for every layer: the egress's target allowlist, its source
 * pools, and anything else an operator writes as a range.
 *
 * Strict, because an operator's typo here widens or narrows a range: the address is read by
 * this package's IP literal parsers (no inet_aton shorthand, no zone ids, no leading zeros),
 * the length is 0-32 or 0-128 in its one decimal spelling, and host bits must be zero
 * ("10.0.0.1/8" is refused, with the block that was probably meant).
 */
import { formatIpText, parseIPv4, parseIPv6 } from './ip.ts';

export interface Cidr {
  readonly family: 4 | 6;
  /** The network address, in network order: host bits are zero. */
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

export type CidrParse =
  { readonly ok: true; readonly cidr: Cidr } | { readonly ok: false; readonly problem: string };

export interface CidrOptions {
  /** Refuse a bare address (one host) where only a range makes sense, e.g. an address pool. */
  readonly requireLength?: boolean;
}

/** Parses a prefix; a bare address is that one host (/32 or /128) unless `requireLength`. */
export function parseCidr(text: string, options: CidrOptions = {}): CidrParse {
  const slash = text.indexOf('/');
  if (slash < 0 && options.requireLength) {
    return { ok: false, problem: 'must be address/length (CIDR)' };
  }
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const bytes = addressText.includes(':') ? parseIPv6(addressText) : parseIPv4(addressText);
  if (bytes === undefined) return { ok: false, problem: 'is not an IPv4 or IPv6 address/prefix' };
  const family = bytes.length === 4 ? 4 : 6;
  const bits = bytes.length * 8;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > bits) {
      return { ok: false, problem: `has a prefix length outside 0-${bits}` };
    }
    prefix = Number(p);
  }
  const network = maskBytes(bytes, prefix);
  if (!network.every((v, i) => bytes[i] === v)) {
    const hint = formatCidr({ family, bytes: network, prefix });
    return { ok: false, problem: `has host bits set (did you mean ${hint}?)` };
  }
  return { ok: true, cidr: { family, bytes: network, prefix } };
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = (bytes[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** Whether the block holds the address (its bytes, 4 or 16, in network order). */
export function cidrContains(block: Cidr, address: { readonly bytes: Uint8Array }): boolean {
  const ip = address.bytes;
  if (block.bytes.length !== ip.length) return false;
  const full = block.prefix >> 3;
  for (let i = 0; i < full; i++) if (block.bytes[i] !== ip[i]) return false;
  const rem = block.prefix & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return ((ip[full] as number) & mask) === block.bytes[full];
}

export function formatCidr(block: Cidr): string {
  return `${formatIpText(block.bytes)}/${block.prefix}`;
}
