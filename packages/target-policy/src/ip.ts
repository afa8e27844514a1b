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

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  readonly bytes: Uint8Array;
}

const octetRe = /^(?:0|[1-9][0-9]{0,2})$/;
const groupRe = /^[0-9a-fA-F]{1,4}$/;

export function parseIPv4(text: string): IpAddress | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!octetRe.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes[i] = n;
  }
  return { family: 4, bytes };
}

function parseGroups(text: string, out: number[]): boolean {
  if (text === '') return true;
  for (const g of text.split(':')) {
    if (!groupRe.test(g)) return false;
    out.push(Number.parseInt(g, 16));
  }
  return true;
}

export function parseIPv6(text: string): IpAddress | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  let body = text;
  let tail: Uint8Array | undefined;
  const lastColon = body.lastIndexOf(':');
  if (lastColon >= 0 && body.includes('.', lastColon)) {
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = v4.bytes;
    // Drop the colon before the quad unless it is half of a "::" ("::1.2.3.4").
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const maxGroups = tail === undefined ? 8 : 6;
  const head: number[] = [];
  const rest: number[] = [];
  const gap = body.indexOf('::');
  if (gap >= 0) {
    if (body.indexOf('::', gap + 1) >= 0) return undefined;
    if (!parseGroups(body.slice(0, gap), head)) return undefined;
    if (!parseGroups(body.slice(gap + 2), rest)) return undefined;
    // "::" stands for at least one zero group (RFC 5952 §4.2.2 discourages one, RFC 4291 allows it).
    if (head.length + rest.length > maxGroups - 1) return undefined;
  } else {
    if (!parseGroups(body, head)) return undefined;
    if (head.length !== maxGroups) return undefined;
  }
  const groups = [
    ...head,
    ...new Array<number>(maxGroups - head.length - rest.length).fill(0),
    ...rest,
  ];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  if (tail !== undefined) bytes.set(tail, 12);
  return { family: 6, bytes };
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

const mappedPrefix = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Canonical text: dotted quad, or RFC 5952 for IPv6 (IPv4-mapped shown with its quad, §5). */
export function formatIp(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (mappedPrefix.every((v, i) => b[i] === v)) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] as number) << 8) | (b[i + 1] as number));
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first on a tie.
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
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function ipEquals(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.bytes.every((v, i) => b.bytes[i] === v);
}
