/**
 * The three places a relay writes a refusal, each the same everywhere: a raw HTTP/1.1 socket
 * (a CONNECT or Upgrade that never became a tunnel), an HTTP/1.1 response (any other request)
 * and an h2 stream. Status, Proxy-Status (RFC 9209), Retry-After when a retry can help, and
 * on HTTP/1.1 the reason as a short text body too. A writer called too late (the peer is gone, or an answer
 * went out already) does nothing: a tunnel is answered once.
 */
import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { http1Refusal, refusalHeaders, type RelayError } from '@splitrelay/errors';

/** HTTP/1.1 on a socket the server handed over (CONNECT, Upgrade, a parser error). */
export function refuseOnSocket(socket: Duplex, proxyName: string, err: RelayError): void {
  if (socket.destroyed) return;
  if (socket.writable) socket.end(http1Refusal(proxyName, err));
  else socket.destroy();
}

/** HTTP/1.1 through the server's response object; the connection is not reused. */
export function refuseOnResponse(res: ServerResponse, proxyName: string, err: RelayError): void {
  if (res.headersSent || res.destroyed) return;
  const body = `${err.details}\n`;
  res.writeHead(err.status, {
    ...refusalHeaders(proxyName, err),
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}

/**
 * HTTP/2: HEADERS with END_STREAM and no body, the reason in Proxy-Status `details`. HEADERS
 * are not flow-controlled (RFC 9113 §6.9), so a peer that keeps its window shut cannot hold a
 * refused stream open by never reading its body. The session carries on.
 */
export function refuseOnStream(
  stream: ServerHttp2Stream,
  proxyName: string,
  err: RelayError,
): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': err.status, ...refusalHeaders(proxyName, err) }, { endStream: true });
}
