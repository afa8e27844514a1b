/**
 * A refusal written straight onto an HTTP/1.1 socket (a CONNECT or Upgrade that will never
 * become a tunnel), the same everywhere: status, Proxy-Status, the reason as a short text
 * body, Retry-After when a retry can help soon, and `Connection: close`.
 */
import { proxyStatusFor } from './proxy-status.ts';
import { RelayError } from './relay-error.ts';

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

/** Seconds a client should wait before retrying an egress that health reports down. */
export const RETRY_AFTER_SECONDS = 5;

export function http1Refusal(proxyName: string, err: RelayError): string {
  const body = `${err.details}\n`;
  return (
    `HTTP/1.1 ${err.status} ${reasons[err.status] ?? 'Error'}\r\n` +
    `Proxy-Status: ${proxyStatusFor(proxyName, err)}\r\n` +
    (err.code === 'egress-down' ? `Retry-After: ${RETRY_AFTER_SECONDS}\r\n` : '') +
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
