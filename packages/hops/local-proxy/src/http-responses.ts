/**
 * Refusals as the HTTP proxy writes them: the RelayError's status, an RFC 9209 Proxy-Status
 * naming this proxy and the error type, Retry-After when a later hop (or this one) said when
 * to come back, and the reason as a short text body. Written either through a ServerResponse
 * or raw on a socket (CONNECT and client errors have no response object).
 *
 * A Proxy-Authenticate on the error is not passed on: the challenge is the ingress's, for
 * this client's token wallet, and means nothing to an application behind a local proxy.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { formatProxyStatus, proxyStatusFor, type RelayError } from '@splitrelay/errors';

export const DEFAULT_PROXY_NAME = 'splitrelay-client';

const fieldValueRe = /^[\x20-\x7e]{1,1024}$/;

/**
 * Our Proxy-Status member. When the refusal came from a later hop that sent its own
 * Proxy-Status (a connector may put it on the error as `proxyStatus`), that hop's members
 * are kept first, closest to the origin as RFC 9209 §2 orders them, and ours only names us.
 */
export function proxyStatusHeader(err: RelayError, proxyName: string): string {
  const upstream = (err as RelayError & { proxyStatus?: unknown }).proxyStatus;
  if (typeof upstream === 'string' && fieldValueRe.test(upstream)) {
    return `${upstream}, ${formatProxyStatus({ proxy: proxyName })}`;
  }
  return proxyStatusFor(proxyName, err);
}

function bodyFor(err: RelayError): string {
  return `${err.code}: ${err.details}\n`;
}

export function sendErrorResponse(res: ServerResponse, err: RelayError, proxyName: string): void {
  const body = bodyFor(err);
  res.writeHead(err.status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'proxy-status': proxyStatusHeader(err, proxyName),
    ...(err.retryAfterSeconds === undefined
      ? {}
      : { 'retry-after': String(err.retryAfterSeconds) }),
  });
  res.end(body);
}

/** Writes a complete response on a raw socket, then closes it. */
export function endSocketWithError(socket: Duplex, err: RelayError, proxyName: string): void {
  const body = bodyFor(err);
  const head =
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\n` +
    `Proxy-Status: ${proxyStatusHeader(err, proxyName)}\r\n` +
    (err.retryAfterSeconds === undefined ? '' : `Retry-After: ${err.retryAfterSeconds}\r\n`) +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n';
  // Destroy once written: a client that keeps sending must not hold the socket open.
  socket.end(head + body, () => socket.destroy());
}
