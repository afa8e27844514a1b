/**
 * The trunk address an ingress dials: `host:port`, where host is a lowercase DNS name, a
 * dotted-quad IPv4 address or a bracketed IPv6 address. Only one spelling of each address
 * is accepted (no leading zeros, no upper case), so two signed entries that name the same
 * place compare equal as strings.
 */

export interface Endpoint {
  /** DNS name or IP address, IPv6 without brackets (ready for `net.connect`). */
  readonly host: string;
  readonly port: number;
}

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const IPV6_CHARS = /^[0-9a-f:.]{2,45}$/;

function isIpv4(host: string): boolean {
  const parts = host.split('.');
  return parts.length === 4 && parts.every((p) => IPV4_OCTET.test(p) && Number(p) <= 255);
}

function isDnsName(host: string): boolean {
  if (host.length > 253) return false;
  const labels = host.split('.');
  // An all-numeric last label would make the name look like a (malformed) IPv4 address.
  if (/^[0-9]+$/.test(labels.at(-1) ?? '')) return false;
  return labels.every((l) => LABEL.test(l));
}

function isIpv6(host: string): boolean {
  if (!IPV6_CHARS.test(host)) return false;
  // The WHATWG URL parser implements the full RFC 4291 text grammar; requiring its
  // serialisation to be unchanged also rejects non-canonical spellings.
  try {
    return new URL(`http://[${host}]/`).hostname === `[${host}]`;
  } catch {
    return false;
  }
}

/** Splits and checks an endpoint; returns undefined when it is not one. */
export function parseEndpoint(endpoint: string): Endpoint | undefined {
  const colon = endpoint.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const hostPart = endpoint.slice(0, colon);
  const portPart = endpoint.slice(colon + 1);
  if (!PORT.test(portPart)) return undefined;
  const port = Number(portPart);
  if (port < 1 || port > 65535) return undefined;
  if (hostPart.startsWith('[') && hostPart.endsWith(']')) {
    const host = hostPart.slice(1, -1);
    return isIpv6(host) ? { host, port } : undefined;
  }
  if (isIpv4(hostPart) || isDnsName(hostPart)) return { host: hostPart, port };
  return undefined;
}
