/**
 * Hosts as a relay must see them: a DNS name (kept as a name, never resolved here), a strict
 * IPv4 dotted quad, or an IPv6 address, each in one canonical text form so that policy
 * checks and logs compare like with like.
 */
import { RelayError } from '@splitrelay/errors';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './ip.ts';

export type HostKind = 'dns' | 'ipv4' | 'ipv6';

export interface Host {
  /** Canonical text: lower-case DNS name without a trailing dot, dotted quad, or RFC 5952 IPv6. */
  readonly host: string;
  readonly kind: HostKind;
}

/** RFC 1035 §2.3.4 / RFC 1123 §2.1, with `_` tolerated because real names (SRV, DKIM, some CDNs) use it. */
const MAX_NAME = 253;
const MAX_LABEL = 63;
const labelRe = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;

/**
 * WHATWG URL treats a host whose last label looks like a number as IPv4 and inet_aton parses
 * such text as an address, so a name like `0x7f.1` or `1.2.3` would reach a resolver as
 * 127.0.0.1 or 1.2.0.3. Such text is only accepted when it is a strict dotted quad.
 */
const numericLabelRe = /^(?:[0-9]+|0x[0-9a-f]*)$/;

function malformed(reason: string): RelayError {
  return new RelayError('malformed-request', reason);
}

/**
 * Names the first forbidden character class, so a reason is specific without ever echoing
 * the input (details go on the wire).
 */
export function forbiddenCharacterReason(text: string): string | undefined {
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    if (c <= 0x20 || c === 0x7f) return 'contains whitespace or control characters';
    if (c > 0x7e) return 'contains non-ASCII characters (use the A-label form)';
    if (ch === '@') return 'userinfo is not allowed';
    if (ch === '%') return 'percent signs are not allowed (no escapes or zone ids)';
    if (ch === '/' || ch === '?' || ch === '#' || ch === '\\') return 'paths are not allowed';
  }
  return undefined;
}

function checkDnsName(name: string): string | undefined {
  if (name.length === 0) return 'empty host';
  if (name.length > MAX_NAME) return 'DNS name is longer than 253 characters';
  const labels = name.split('.');
  for (const label of labels) {
    if (label.length === 0) return 'DNS name has an empty label';
    if (label.length > MAX_LABEL) return 'DNS label is longer than 63 characters';
    if (!labelRe.test(label)) return 'DNS label has characters other than letters, digits, - and _';
  }
  if (numericLabelRe.test(labels[labels.length - 1] as string)) {
    return 'numeric host is not a strict dotted-quad IPv4 address';
  }
  return undefined;
}

/**
 * Parses a bare host (no port, IPv6 without brackets) into its canonical form.
 * Throws `RelayError('malformed-request')` with a reason that never quotes the input.
 */
export function parseHost(text: string): Host {
  if (text.length === 0) throw malformed('empty host');
  const bad = forbiddenCharacterReason(text);
  if (bad !== undefined) throw malformed(bad);

  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { host: formatIPv4(v4), kind: 'ipv4' };

  if (text.includes(':')) {
    const v6 = parseIPv6(text);
    if (v6 === undefined) throw malformed('invalid IPv6 address');
    return { host: formatIPv6(v6), kind: 'ipv6' };
  }

  // One trailing dot marks a fully qualified name; it names the same host.
  const name = (text.endsWith('.') ? text.slice(0, -1) : text).toLowerCase();
  const reason = checkDnsName(name);
  if (reason !== undefined) throw malformed(reason);
  return { host: name, kind: 'dns' };
}

/** The kind of a host; throws like `parseHost` when it is not a valid host at all. */
export function classifyHost(host: string): HostKind {
  return parseHost(host).kind;
}

/**
 * True when the text is a host already in the one spelling `parseHost` gives it (lower case,
 * no trailing dot, RFC 5952 IPv6), optionally of one kind: for values that are compared as
 * strings, such as signed endpoints and issuer names.
 */
export function isCanonicalHost(text: string, kind?: HostKind): boolean {
  try {
    const parsed = parseHost(text);
    return parsed.host === text && (kind === undefined || parsed.kind === kind);
  } catch {
    return false;
  }
}

/** True when `parseHost` would accept the text. */
export function isValidHost(text: string): boolean {
  try {
    parseHost(text);
    return true;
  } catch {
    return false;
  }
}
