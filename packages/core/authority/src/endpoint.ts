/**
 * An endpoint is an authority (authority.ts) written in its one canonical spelling, the one
 * `formatAuthority` gives: a lower-case DNS name without a trailing dot, a dotted quad, or a
 * bracketed RFC 5952 IPv6 address, then `:` and a port without leading zeros.
 *
 *   endpoint = host ":" port   ; formatAuthority(parseAuthority(endpoint)) == endpoint
 *
 * Signed documents (a directory entry's trunk address) hold endpoints, so that two documents
 * naming the same place compare equal as strings, and what a verifier accepts is exactly
 * what the dialler will read.
 */
import { RelayError } from '@splitrelay/errors';
import { formatAuthority, parseAuthority, type Authority } from './authority.ts';

/** Parses an endpoint; throws `RelayError('malformed-request')` for any other spelling. */
export function parseEndpoint(text: string): Authority {
  const parsed = parseAuthority(text);
  if (formatAuthority(parsed) !== text) {
    throw new RelayError('malformed-request', 'endpoint is not in its canonical spelling');
  }
  return parsed;
}

export function isEndpoint(text: string): boolean {
  try {
    parseEndpoint(text);
    return true;
  } catch {
    return false;
  }
}
