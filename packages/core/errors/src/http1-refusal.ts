/**
 * A refusal written straight onto an HTTP/1.1 socket (a CONNECT or Upgrade that will never
 * become a tunnel), the same everywhere: status, Proxy-Status, the reason as a short text
 * body, Retry-After when a retry can help soon, and `Connection: close`.
 */
import { RelayError } from './relay-error.ts';
import { refusalHeaders } from './refusal-headers.ts';

const reasons: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function http1Refusal(proxyName: string, err: RelayError): string {
  const body = `${err.details}\n`;
  return (
    `HTTP/1.1 ${err.status} ${reasons[err.status] ?? 'Error'}\r\n` +
    Object.entries(refusalHeaders(proxyName, err))
      .map(([name, value]) => `${canonicalName(name)}: ${value}\r\n`)
      .join('') +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${new TextEncoder().encode(body).length}\r\n` +
    `Connection: close\r\n\r\n${body}`
  );
}

/** Node's HTTP/1.1 parser errors ('clientError') as the refusal they deserve. */
export function parserErrorToRelayError(err: { code?: string }): RelayError {
  return err.code === 'HPE_HEADER_OVERFLOW'
    ? new RelayError('headers-too-large', 'request header section too large')
    : new RelayError('malformed-request', 'malformed HTTP/1.1 request');
}

/** `proxy-authenticate` → `Proxy-Authenticate`: the spelling HTTP/1.1 tools print and grep for. */
function canonicalName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}
