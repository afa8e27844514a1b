/**
 * The WebSocket carrier, for networks that pass only WebSocket: the same tunnel as
 * `CONNECT egress-id:443`, asked for as `GET /.well-known/splitrelay/ws/<egress-id>` with
 * `Upgrade: websocket` (RFC 6455). Binary messages carry the client's inner TLS bytes; the
 * path names only the egress.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, createWebSocketStream } from 'ws';
import { RelayError } from '@splitrelay/errors';

// Kept here too: the client loads this file (and `ws`) only when it uses the carrier.
export { WEBSOCKET_PATH_PREFIX } from './egress-id.ts';

/** Largest WebSocket message accepted; inner TLS records are at most ~16 KiB each. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Server side: completes the upgrade and returns the tunnel as a byte stream. A handshake `ws`
 * refuses (it answers 400 itself and closes the socket) rejects, so the caller can let go of
 * what it opened for this tunnel.
 */
export function acceptWebSocket(
  server: WebSocketServer,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const onClose = (): void =>
      reject(new RelayError('malformed-request', 'WebSocket handshake refused'));
    socket.once('close', onClose);
    server.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', onClose);
      resolve(webSocketDuplex(ws));
    });
  });
}

export function createWebSocketServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_MESSAGE_BYTES,
    clientTracking: false,
  });
}

export function webSocketDuplex(ws: WebSocket): Duplex {
  const stream = createWebSocketStream(ws, { allowHalfOpen: false });
  stream.on('error', () => {});
  return stream;
}

export { WebSocket };
