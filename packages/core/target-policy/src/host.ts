/**
 * What a target's host text is: an IP literal, or a DNS name to resolve at the egress.
 *
 * Names are held to hostname syntax (letters, digits, "-", "_", dots; A-labels for IDNs),
 * because the resolver behind `dns.lookup` is getaddrinfo, which also accepts inet_aton
 * shorthand: "127.1", "0x7f.1" and "2130706433" all mean 127.0.0.1 to it. Those would be
 * caught after resolution anyway; refusing them here keeps them from being names at all.
 */
import { RelayError } from '@splitrelay/errors';
import { hasZoneId, parseIp, type IpAddress } from './ip.ts';

export type ParsedHost =
  | { readonly type: 'ip'; readonly ip: IpAddress }
  | { readonly type: 'name'; readonly name: string };

const labelRe = /^[a-z0-9_-]{1,63}$/;
/** A last label that inet_aton would read as a number: no real TLD looks like this (RFC 3696 §2). */
const numericLabelRe = /^(?:[0-9]+|0x[0-9a-f]*)$/;

export function parseHost(host: string): ParsedHost {
  let text = host;
  if (text.startsWith('[') || text.endsWith(']')) {
    if (!(text.startsWith('[') && text.endsWith(']'))) throw malformed(host, 'unbalanced brackets');
    text = text.slice(1, -1);
    if (!text.includes(':')) throw malformed(host, 'only IPv6 literals go in brackets');
  }
  if (text.includes('%')) {
    if (hasZoneId(text)) {
      throw new RelayError(
        'target-prohibited',
        `destination ${shown(host)} has a zone id (scoped addresses are refused)`,
      );
    }
    throw malformed(host, 'not a host name or IP address');
  }
  const ip = parseIp(text);
  if (ip !== undefined) return { type: 'ip', ip };
  if (text.includes(':')) throw malformed(host, 'not a valid IPv6 address');
  return { type: 'name', name: normalizeName(host, text) };
}

function normalizeName(original: string, text: string): string {
  // One trailing dot is the absolute form of the same name; "localhost." must not slip by.
  const name = (text.endsWith('.') ? text.slice(0, -1) : text).toLowerCase();
  if (name.length === 0 || name.length > 253) throw malformed(original, 'bad host name length');
  const labels = name.split('.');
  for (const label of labels) {
    if (!labelRe.test(label)) throw malformed(original, 'not a valid host name');
  }
  if (numericLabelRe.test(labels.at(-1) as string)) {
    throw malformed(original, 'not a canonical IP address or host name');
  }
  return name;
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
