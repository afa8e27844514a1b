/**
 * The request path of a `connect-udp` request, from the default URI template of RFC 9298 §2
 * (https://www.rfc-editor.org/rfc/rfc9298#section-2):
 *
 *   https://$PROXY_HOST:$PROXY_PORT/.well-known/masque/udp/{target_host}/{target_port}/
 *
 * so the `:path` is
 *
 *   path        = "/.well-known/masque/udp/" host-segment "/" port-segment "/"
 *   host-segment = 1*( unreserved / pct-encoded )   ; RFC 6570 §3.2.2 simple expansion
 *   port-segment = 1*5DIGIT                          ; 1..65535, no leading zero
 *   unreserved  = ALPHA / DIGIT / "-" / "." / "_" / "~"
 *   pct-encoded = "%" HEXDIG HEXDIG
 *
 * RFC 9298 §3: target_host is a DNS name, an IPv4 literal or an IPv6 literal (no zone ID),
 * and expansion percent-encodes it, so "2001:db8::42" travels as "2001%3Adb8%3A%3A42",
 * without brackets.
 *
 * Parsing accepts only what a conforming expansion of the default template can produce:
 * no query, no fragment, no extra or empty segments, no raw reserved characters in the host
 * segment, hex escapes decoded exactly once (so `%252F` is a literal `%2F` and is then
 * refused as a host, not decoded again), and the decoded host must pass `parseHost` (which
 * refuses NUL and other controls, `%`, `/`, `\`, non-ASCII and `.`/`..`). The port is never
 * percent-decoded: digits only. Every refusal is `RelayError('malformed-request')` with a
 * reason that never quotes the input.
 */
import { parseHost, parsePort, type HostKind } from '@splitrelay/authority';
import { RelayError } from '@splitrelay/errors';

/** Everything before `{target_host}` in the default template's path. */
export const UDP_PATH_PREFIX = '/.well-known/masque/udp/';

export interface UdpTarget {
  readonly host: string;
  readonly port: number;
  readonly kind: HostKind;
}

/**
 * Prefix, a 253-character name with every byte escaped (3 × 254 with a trailing dot),
 * slashes and a port: anything longer cannot be valid, so it is refused before any work.
 */
const MAX_PATH = UDP_PATH_PREFIX.length + 3 * 254 + 1 + 5 + 1;

const unreservedRe = /^[A-Za-z0-9\-._~]$/;
const hexRe = /^[0-9A-Fa-f]{2}$/;

function malformed(reason: string): RelayError {
  return new RelayError('malformed-request', reason);
}

/** RFC 6570 §3.2.1: every byte outside `unreserved` as %XX, upper-case hex. */
function expandSimple(value: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(value)) {
    const ch = String.fromCharCode(byte);
    out += unreservedRe.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The path for a target. The host is canonicalised with `parseHost` first (bare host: IPv6
 * without brackets), so the result always parses back; an invalid host or port throws
 * `RelayError('malformed-request')`.
 */
export function formatUdpPath(target: { readonly host: string; readonly port: number }): string {
  const { host } = parseHost(target.host);
  const port = parsePort(Number.isSafeInteger(target.port) ? String(target.port) : '');
  return `${UDP_PATH_PREFIX}${expandSimple(host)}/${port}/`;
}

/** Decodes `%XX` once; refuses raw characters outside `unreserved` and broken escapes. */
function decodeHostSegment(segment: string): string {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i] as string;
    if (ch === '%') {
      const hex = segment.slice(i + 1, i + 3);
      if (!hexRe.test(hex)) throw malformed('invalid percent-encoding in target_host');
      const byte = parseInt(hex, 16);
      // Only ASCII can be a valid host, and a lone byte above 0x7f is not a character.
      if (byte > 0x7f) throw malformed('target_host contains non-ASCII characters');
      out += String.fromCharCode(byte);
      i += 2;
    } else if (unreservedRe.test(ch)) {
      out += ch;
    } else {
      throw malformed('target_host has a character that must be percent-encoded');
    }
  }
  return out;
}

/** Parses a `:path` built from the default template into a canonical target. */
export function parseUdpPath(path: string): UdpTarget {
  if (path.length > MAX_PATH) throw malformed('path is too long');
  if (!path.startsWith(UDP_PATH_PREFIX)) throw malformed('path is not the connect-udp template');
  if (path.includes('?')) throw malformed('query is not allowed in a connect-udp path');
  if (path.includes('#')) throw malformed('fragment is not allowed in a connect-udp path');
  if (!path.endsWith('/')) throw malformed('connect-udp path must end with a slash');

  const segments = path.slice(UDP_PATH_PREFIX.length, -1).split('/');
  if (segments.length !== 2) throw malformed('connect-udp path must have exactly host and port');
  const [hostSegment, portSegment] = segments as [string, string];
  if (hostSegment.length === 0) throw malformed('empty target_host');

  const port = parsePort(portSegment);
  const { host, kind } = parseHost(decodeHostSegment(hostSegment));
  return { host, port, kind };
}
