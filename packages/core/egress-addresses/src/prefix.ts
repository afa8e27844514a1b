/**
 * IP prefixes as integer intervals, the form every pool computation wants: counting usable
 * addresses, finding overlaps, drawing an address, checking coverage by the host's routes.
 *
 *   IPv4 prefix:  dotted quad "/" 0-32      (RFC 4632 §3.1), host bits zero
 *   IPv6 prefix:  RFC 4291 §2.3 text "/" 0-128, host bits zero
 *
 * The address text parsers are `@splitrelay/authority`'s, so a prefix is read exactly as a
 * target literal is: no inet_aton shorthand, no zone ids, no leading zeros.
 */
import { formatIPv4, formatIPv6, parseCidr, parseIPv4, parseIPv6 } from '@splitrelay/authority';

export type IpFamily = 4 | 6;

export interface Prefix {
  readonly family: IpFamily;
  /** The network address as an integer (host bits zero). */
  readonly network: bigint;
  readonly length: number;
}

export type PrefixParse =
  { readonly ok: true; readonly prefix: Prefix } | { readonly ok: false; readonly problem: string };

export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function bigIntToBytes(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

export function formatAddress(family: IpFamily, value: bigint): string {
  return family === 4 ? formatIPv4(bigIntToBytes(value, 4)) : formatIPv6(bigIntToBytes(value, 16));
}

/** Parses an address literal of either family; undefined when it is not one. */
export function parseAddress(text: string): { family: IpFamily; value: bigint } | undefined {
  const bytes = text.includes(':') ? parseIPv6(text) : parseIPv4(text);
  if (bytes === undefined) return undefined;
  return { family: bytes.length === 4 ? 4 : 6, value: bytesToBigInt(bytes) };
}

/**
 * Strict: the length is required (a pool is a range, not a host), and host bits must be zero,
 * because "192.0.2.1/24" is a typo whose intended meaning nobody can know. The reading is
 * authority's `parseCidr`, the one every layer uses; this only turns the block into the
 * integer interval the pool arithmetic wants.
 */
export function parsePrefix(text: string): PrefixParse {
  const r = parseCidr(text, { requireLength: true });
  if (!r.ok) return r;
  return {
    ok: true,
    prefix: { family: r.cidr.family, network: bytesToBigInt(r.cidr.bytes), length: r.cidr.prefix },
  };
}

export function formatPrefix(prefix: Prefix): string {
  return `${formatAddress(prefix.family, prefix.network)}/${prefix.length}`;
}

/** Number of addresses in the prefix, all of them (usable ones are counted in reserved.ts). */
export function prefixSize(prefix: Prefix): bigint {
  return 1n << BigInt(familyBits(prefix.family) - prefix.length);
}

/** The last address in the prefix. */
export function prefixEnd(prefix: Prefix): bigint {
  return prefix.network + prefixSize(prefix) - 1n;
}

export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  return (
    outer.family === inner.family &&
    outer.length <= inner.length &&
    inner.network >= outer.network &&
    prefixEnd(inner) <= prefixEnd(outer)
  );
}

/** Two prefixes overlap exactly when one contains the other (prefixes nest or are disjoint). */
export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  return prefixContains(a, b) || prefixContains(b, a);
}

/** log2 of a positive bigint, precise to a double's 53 bits however large the value. */
export function log2BigInt(n: bigint): number {
  if (n <= 0n) return Number.NEGATIVE_INFINITY;
  const bitLength = n.toString(2).length;
  if (bitLength <= 53) return Math.log2(Number(n));
  const shift = bitLength - 53;
  return Math.log2(Number(n >> BigInt(shift))) + shift;
}
