/**
 * The trunk address an ingress dials: an endpoint in `@splitrelay/authority`'s sense, a
 * `host:port` where host is a lowercase DNS name, a dotted-quad IPv4 address or a bracketed
 * RFC 5952 IPv6 address. Only one spelling of each address is accepted (no leading zeros,
 * no upper case, no trailing dot), so two signed entries that name the same place compare
 * equal as strings, and what a verifier accepts is what the CONNECT parser reads.
 */
import { parseEndpoint as parseCanonicalAuthority } from '@splitrelay/authority';

export interface Endpoint {
  /** DNS name or IP address, IPv6 without brackets (ready for `net.connect`). */
  readonly host: string;
  readonly port: number;
}

/** Splits and checks an endpoint; returns undefined when it is not one. */
export function parseEndpoint(endpoint: string): Endpoint | undefined {
  try {
    const { host, port } = parseCanonicalAuthority(endpoint);
    return { host, port };
  } catch {
    return undefined;
  }
}
