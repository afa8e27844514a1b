/**
 * What a target's host text is: an IP literal, or a DNS name to resolve at the egress.
 *
 * Whether the text is a host at all, and which canonical one, is `@splitrelay/authority`'s
 * answer, the same the inner session's CONNECT parser gave: a policy only holds if both
 * layers agree on what a host is. Its names are held to hostname syntax and refuse a
 * numeric last label, because the resolver behind `dns.lookup` is getaddrinfo, which also
 * accepts inet_aton shorthand: "127.1", "0x7f.1" and "2130706433" all mean 127.0.0.1 to it.
 * Those would be caught after resolution anyway; refusing them keeps them from being names.
 *
 * What this layer adds: IPv6 may come in brackets (as in a URL), and a zone id is a
 * prohibited target rather than a malformed one.
 */
import { RelayError } from '@splitrelay/errors';
import { parseHost as parseAuthorityHost, type Host } from '@splitrelay/authority';
import { hasZoneId, parseIp, type IpAddress } from './ip.ts';

export type ParsedHost =
  | { readonly type: 'ip'; readonly ip: IpAddress }
  | { readonly type: 'name'; readonly name: string };

export function parseHost(host: string): ParsedHost {
  let text = host;
  if (text.startsWith('[') || text.endsWith(']')) {
    if (!(text.startsWith('[') && text.endsWith(']'))) throw malformed(host, 'unbalanced brackets');
    text = text.slice(1, -1);
    if (!text.includes(':')) throw malformed(host, 'only IPv6 literals go in brackets');
  }
  if (text.includes('%') && hasZoneId(text)) {
    throw new RelayError(
      'target-prohibited',
      `destination ${shown(host)} has a zone id (scoped addresses are refused)`,
    );
  }
  let parsed: Host;
  try {
    parsed = parseAuthorityHost(text);
  } catch (err) {
    // The reason never quotes the input; this layer's message names the host (capped).
    if (err instanceof RelayError) throw malformed(host, err.details);
    throw err;
  }
  if (parsed.kind === 'dns') return { type: 'name', name: parsed.host };
  // The canonical text of an IP literal always parses: authority's byte parsers are ip.ts's.
  return { type: 'ip', ip: parseIp(parsed.host) as IpAddress };
}

/** RFC 6761 §6.3: "localhost" and every name under it are the local host, whatever DNS says. */
export function isLocalhostName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

/** Caps echoed text: it goes back to the client in Proxy-Status details. */
function shown(host: string): string {
  return host.length > 64 ? `${host.slice(0, 64)}...` : host;
}

function malformed(host: string, why: string): RelayError {
  return new RelayError('malformed-request', `target host "${shown(host)}": ${why}`);
}
