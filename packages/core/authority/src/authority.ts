/**
 * The authority of a CONNECT request or a SOCKS target, RFC 9110 §7.2 / RFC 3986 §3.2:
 *
 *   authority   = host ":" port            ; both required: a tunnel needs a port
 *   host        = reg-name / IPv4address / "[" IPv6address "]"
 *   port        = 1*5DIGIT                 ; 1..65535, no sign, no leading zero
 *
 * Narrower than RFC 3986 on purpose: no userinfo, no percent-encoding, no IPvFuture, no zone
 * ids, reg-name limited to DNS names (see host.ts), IPv4 only as a strict dotted quad.
 */
import { RelayError } from '@splitrelay/errors';
import { forbiddenCharacterReason, parseHost, type HostKind } from './host.ts';
import { formatIPv6, parseIPv6 } from './ip.ts';

export interface Authority {
  readonly host: string;
  readonly port: number;
  readonly kind: HostKind;
}

/** Longest valid authority: a 253-character name plus a trailing dot, `:`, five digits. */
const MAX_AUTHORITY = 260;

const portRe = /^[1-9][0-9]{0,4}$/;

export interface AuthorityOptions {
  /** Accept port 0: a listener's "let the OS pick". Never for a target or an endpoint. */
  readonly allowPortZero?: boolean;
}

function malformed(reason: string): RelayError {
  return new RelayError('malformed-request', reason);
}

/** Parses a decimal port in 1..65535 (0..65535 with `allowPortZero`). */
export function parsePort(text: string, options?: AuthorityOptions): number {
  if (text.length === 0) throw malformed('missing port');
  if (text === '0' && options?.allowPortZero === true) return 0;
  if (!portRe.test(text))
    throw malformed('port must be decimal digits without sign or leading zero');
  const port = Number(text);
  if (port > 65535) throw malformed('port is out of range');
  return port;
}

export function parseAuthority(text: string, options?: AuthorityOptions): Authority {
  if (text.length === 0) throw malformed('empty authority');
  if (text.length > MAX_AUTHORITY) throw malformed('authority is too long');
  const bad = forbiddenCharacterReason(text);
  if (bad !== undefined) throw malformed(bad);

  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw malformed('unterminated IPv6 literal');
    const v6 = parseIPv6(text.slice(1, close));
    if (v6 === undefined) throw malformed('invalid IPv6 literal');
    const rest = text.slice(close + 1);
    if (!rest.startsWith(':')) throw malformed('missing port');
    return { host: formatIPv6(v6), port: parsePort(rest.slice(1), options), kind: 'ipv6' };
  }

  const colon = text.lastIndexOf(':');
  if (colon === -1) throw malformed('missing port');
  const hostText = text.slice(0, colon);
  if (hostText.includes(':')) throw malformed('IPv6 literals must be in brackets');
  if (hostText.length === 0) throw malformed('missing host');
  if (hostText.includes('[') || hostText.includes(']')) throw malformed('misplaced bracket');
  const port = parsePort(text.slice(colon + 1), options);
  const { host, kind } = parseHost(hostText);
  return { host, port, kind };
}

/** `host:port`, with IPv6 in brackets. The host is written as given: parse it first if unsure. */
export function formatAuthority(a: { readonly host: string; readonly port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
