/**
 * RFC 9209 Proxy-Status, as an RFC 8941 structured-field list:
 *
 *   Proxy-Status = sf-list
 *   member       = proxy-name *( ";" param )      ; proxy-name is an sf-token or sf-string
 *   params used  : error=<sf-token>, details=<sf-string>, rcode=<sf-string>
 *
 * Each intermediary appends its own member; the first member is the one closest to the
 * origin. We only need to write our member and read the `error` of the nearest one.
 */
import type { ProxyErrorType } from './relay-error.ts';
import { RelayError } from './relay-error.ts';

const tokenRe = /^[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*$/;

/** RFC 8941 §3.3.3: printable ASCII, with `"` and `\` escaped. Other bytes are replaced. */
export function sfString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0x3f;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c >= 0x20 && c <= 0x7e) out += ch;
    else out += '?';
  }
  return `${out}"`;
}

export interface ProxyStatusMember {
  readonly proxy: string;
  readonly error?: ProxyErrorType;
  readonly details?: string;
  readonly rcode?: string;
}

export function formatProxyStatus(member: ProxyStatusMember): string {
  let out = tokenRe.test(member.proxy) ? member.proxy : sfString(member.proxy);
  if (member.error !== undefined) out += `; error=${member.error}`;
  if (member.details !== undefined) out += `; details=${sfString(member.details)}`;
  if (member.rcode !== undefined) out += `; rcode=${sfString(member.rcode)}`;
  return out;
}

export function proxyStatusFor(proxy: string, err: RelayError): string {
  return formatProxyStatus({ proxy, error: err.proxyError, details: err.details });
}

/**
 * Parses the members of a Proxy-Status field. Lenient by design (a hop's odd header must
 * not break error reporting), but never throws and never reads past the value.
 */
export function parseProxyStatus(field: string): ProxyStatusMember[] {
  const members: ProxyStatusMember[] = [];
  let i = 0;
  const n = field.length;
  const skipWs = (): void => {
    while (i < n && (field[i] === ' ' || field[i] === '\t')) i++;
  };
  const readString = (): string | undefined => {
    if (field[i] !== '"') return undefined;
    i++;
    let s = '';
    while (i < n) {
      const ch = field[i++];
      if (ch === '\\' && i < n) s += field[i++];
      else if (ch === '"') return s;
      else s += ch;
    }
    return undefined;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && !';,= \t"'.includes(field[i] as string)) i++;
    return field.slice(start, i);
  };
  while (i < n) {
    skipWs();
    const proxy = field[i] === '"' ? readString() : readToken();
    if (proxy === undefined || proxy === '') break;
    const params: Record<string, string> = {};
    skipWs();
    while (field[i] === ';') {
      i++;
      skipWs();
      const key = readToken();
      let value = '';
      if (field[i] === '=') {
        i++;
        value = (field[i] === '"' ? readString() : readToken()) ?? '';
      }
      params[key] = value;
      skipWs();
    }
    members.push({
      proxy,
      ...(params.error !== undefined ? { error: params.error as ProxyErrorType } : {}),
      ...(params.details !== undefined ? { details: params.details } : {}),
      ...(params.rcode !== undefined ? { rcode: params.rcode } : {}),
    });
    skipWs();
    if (field[i] !== ',') break;
    i++;
  }
  return members;
}
