/**
 * The address triple shared by requests, replies and UDP headers (RFC 1928 §4, §5):
 *
 *   +------+----------+----------+
 *   | ATYP | DST.ADDR | DST.PORT |
 *   +------+----------+----------+
 *   |  1   | Variable |    2     |
 *   +------+----------+----------+
 *
 *   ATYP 0x01  IPv4: 4 octets
 *   ATYP 0x03  DOMAINNAME: 1 length octet, then that many octets, no terminating NUL
 *   ATYP 0x04  IPv6: 16 octets
 *   DST.PORT   network byte order
 *
 * A DOMAINNAME stays a name: it is validated like any host (host.ts in @splitrelay/authority)
 * but never resolved, since resolving on the client would leak the target to its resolver.
 * A DOMAINNAME that spells an IP literal is reported with that kind, so a policy sees it
 * as the address it is.
 */
import { isRelayError } from '@splitrelay/errors';
import {
  formatIPv4,
  formatIPv6,
  parseHost,
  parseIPv4,
  parseIPv6,
  type HostKind,
} from '@splitrelay/authority';
import { Socks5Error, SocksReply } from './codes.ts';

export const Atyp = { ipv4: 0x01, domainName: 0x03, ipv6: 0x04 } as const;

export interface SocksAddress {
  readonly host: string;
  readonly port: number;
  readonly kind: HostKind;
}

/** Where a target is given to an encoder: the kind is derived from the host text. */
export interface SocksTarget {
  readonly host: string;
  readonly port: number;
}

function readPort(buf: Uint8Array, at: number): number {
  return ((buf[at] as number) << 8) | (buf[at + 1] as number);
}

function toHost(text: string): { host: string; kind: HostKind } {
  try {
    return parseHost(text);
  } catch (err) {
    if (isRelayError(err))
      throw new Socks5Error('malformed-request', `domain name: ${err.details}`);
    throw err;
  }
}

function domainHost(bytes: Uint8Array): { host: string; kind: HostKind } {
  if (bytes.length === 0) throw new Socks5Error('malformed-request', 'empty domain name');
  // latin1: one byte, one character, so non-ASCII bytes reach the validator and are refused.
  return toHost(String.fromCharCode(...bytes));
}

/** Decodes ATYP, DST.ADDR and DST.PORT at `offset`; `end` is the offset after the port. */
export function decodeAddress(
  buf: Uint8Array,
  offset: number,
): { readonly address: SocksAddress; readonly end: number } | undefined {
  if (buf.length <= offset) return undefined;
  const atyp = buf[offset] as number;
  let start = offset + 1;
  let len: number;
  switch (atyp) {
    case Atyp.ipv4:
      len = 4;
      break;
    case Atyp.ipv6:
      len = 16;
      break;
    case Atyp.domainName:
      if (buf.length <= start) return undefined;
      len = buf[start] as number;
      if (len === 0) throw new Socks5Error('malformed-request', 'empty domain name');
      start += 1;
      break;
    default:
      throw new Socks5Error(
        'malformed-request',
        'unsupported address type',
        SocksReply.addressTypeNotSupported,
      );
  }
  const end = start + len + 2;
  if (buf.length < end) return undefined;
  const raw = buf.subarray(start, start + len);
  const port = readPort(buf, start + len);
  if (atyp === Atyp.ipv4) return { address: { host: formatIPv4(raw), port, kind: 'ipv4' }, end };
  if (atyp === Atyp.ipv6) return { address: { host: formatIPv6(raw), port, kind: 'ipv6' }, end };
  return { address: { ...domainHost(raw), port }, end };
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Socks5Error('malformed-request', 'port is out of range');
  }
}

/** ATYP, address and port bytes for a target; IP literals always use their binary ATYP. */
export function encodeAddress(target: SocksTarget): Uint8Array {
  checkPort(target.port);
  const { host, kind } = toHost(target.host);
  let out: Uint8Array;
  if (kind === 'dns') {
    out = new Uint8Array(1 + 1 + host.length + 2);
    out[0] = Atyp.domainName;
    out[1] = host.length;
    for (let i = 0; i < host.length; i++) out[2 + i] = host.charCodeAt(i);
  } else {
    const raw = (kind === 'ipv4' ? parseIPv4(host) : parseIPv6(host)) as Uint8Array;
    out = new Uint8Array(1 + raw.length + 2);
    out[0] = kind === 'ipv4' ? Atyp.ipv4 : Atyp.ipv6;
    out.set(raw, 1);
  }
  out[out.length - 2] = target.port >> 8;
  out[out.length - 1] = target.port & 0xff;
  return out;
}
