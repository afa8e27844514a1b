/**
 * IP address text ⇄ bytes, without node:net (cores are sans-I/O).
 *
 * Deliberately strict: only the forms getaddrinfo and net.connect agree on byte for byte.
 *   IPv4:  four decimal octets 0-255, no leading zeros (RFC 6943 §3.1.1: "010" is octal to
 *          inet_aton but decimal to others, so an ambiguous form is not an address here).
 *   IPv6:  RFC 4291 §2.2 text: up to eight 1-4 digit hex groups, at most one "::", and an
 *          optional trailing dotted quad. Zone ids ("%eth0") are not parsed: see `hasZoneId`.
 * Anything else (inet_aton shorthand such as "127.1" or "0x7f000001") is not an IP literal;
 * `host.ts` refuses such names before they can reach a resolver that would accept them.
 */

import {
  formatIpText,
  parseIPv4 as ipv4Bytes,
  parseIPv6 as ipv6Bytes,
} from '@splitrelay/authority';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  readonly bytes: Uint8Array;
}

/** The byte parsers are `@splitrelay/authority`'s: one strict reading of an IP literal. */
export function parseIPv4(text: string): IpAddress | undefined {
  const bytes = ipv4Bytes(text);
  return bytes === undefined ? undefined : { family: 4, bytes };
}

export function parseIPv6(text: string): IpAddress | undefined {
  const bytes = ipv6Bytes(text);
  return bytes === undefined ? undefined : { family: 6, bytes };
}

/** Parses either family; undefined when the text is not a plain IP literal (zone ids included). */
export function parseIp(text: string): IpAddress | undefined {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

/** "fe80::1%eth0": a scoped address only means something on one host's link, never a target. */
export function hasZoneId(text: string): boolean {
  const pct = text.indexOf('%');
  return pct > 0 && parseIPv6(text.slice(0, pct)) !== undefined;
}

/**
 * Canonical text: dotted quad, or RFC 5952 for IPv6, except that an IPv4-mapped address shows
 * its quad (§5), which is how an operator reads the refusals and allowlists that name one.
 */
export function formatIp(ip: IpAddress): string {
  return formatIpText(ip.bytes);
}
