/**
 * The client's local HTTP proxy: `CONNECT host:port` tunnels, and absolute-form `http://`
 * requests forwarded through a tunnel. Anything else gets a status and a reason, and the
 * server keeps serving.
 *
 *   CONNECT:        request ─▶ parseAuthority ─▶ connector ─▶ "200 Connection Established" ─▶ splice
 *   absolute-form:  request ─▶ parseAbsoluteTarget (http: only) ─▶ SDK dispatcher (connections
 *                   from the connector) ─▶ stream back
 *   refusal:        RelayError ─▶ status + Proxy-Status + text reason
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { RelayError, toRelayError } from '@splitrelay/errors';
import { parseAuthority } from '@splitrelay/authority';
import { splice } from '@splitrelay/transport';
import { forwardRequest, parseAbsoluteTarget } from './http-forward.ts';
import { DEFAULT_PROXY_NAME, endSocketWithError, sendErrorResponse } from './http-responses.ts';
import type { LocalProxyLogger, Target, TunnelConnector } from './types.ts';

export interface HttpProxyServerOptions {
  readonly connect: TunnelConnector;
  /**
   * The undici dispatcher for absolute-form requests to `target`. Defaults to one Agent for
   * the server whose connections come from `connect` (destroyed when the server closes).
   */
  readonly dispatcherFor?: (target: Target) => Dispatcher;
  /** Largest request head in bytes; a bigger one gets 431. Default 16 KiB (Node's default). */
  readonly maxHeaderSize?: number;
  /** Time for a client to send a complete request head, ms. Default 30 s. */
  readonly headersTimeoutMs?: number;
  /** The name this proxy gives itself in Proxy-Status. */
  readonly proxyName?: string;
  readonly logger?: LocalProxyLogger;
}

const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;
const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;

export function createHttpProxyServer(options: HttpProxyServerOptions): http.Server {
  const proxyName = options.proxyName ?? DEFAULT_PROXY_NAME;
  const log = options.logger;
  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const server = http.createServer({
    maxHeaderSize: options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE,
    headersTimeout,
    // A proxied response may take as long as the origin needs; only the head is bounded.
    requestTimeout: 0,
    noDelay: true,
  });

  // The dispatcher could reach https origins too; parseAbsoluteTarget keeps them out, since
  // doing a client's TLS for it is not this proxy's job (clients use CONNECT).
  // Loaded on the first absolute-form request: undici is ~65 ms of a cold start, and most
  // clients only ever send CONNECT.
  let agent: Promise<Dispatcher> | undefined;
  const dispatcherFor =
    options.dispatcherFor ??
    (() =>
      (agent ??= import('@splitrelay/sdk/dispatcher').then((m) =>
        m.createDispatcher(options.connect),
      )));
  server.once('close', () => void agent?.then((a) => a.destroy()));

  server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    handleConnect(req, socket, head, options.connect, proxyName, log);
  });

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    let absolute;
    try {
      absolute = parseAbsoluteTarget(req.url ?? '');
    } catch (err) {
      const relayErr = toRelayError(err, 'malformed-request');
      log?.debug('http refused', { code: relayErr.code, status: relayErr.status });
      sendErrorResponse(res, relayErr, proxyName);
      return;
    }
    void forwardRequest(req, res, absolute, {
      dispatcher: dispatcherFor({ host: absolute.target.host, port: absolute.target.port }),
      proxyName,
      ...(log ? { logger: log } : {}),
    });
  });

  // Node's default answer to a bad request head has no Proxy-Status; this one does.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const relayErr = clientErrorToRelayError(err);
    log?.debug('http client error', { code: relayErr.code, status: relayErr.status });
    endSocketWithError(socket, relayErr, proxyName);
  });

  return server;
}

function clientErrorToRelayError(err: NodeJS.ErrnoException): RelayError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new RelayError('headers-too-large', 'request head is too large');
    case 'HPE_HEADERS_TIMEOUT':
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RelayError('idle-timeout', 'request head not received in time');
    default:
      return new RelayError('malformed-request', 'malformed HTTP request');
  }
}

function handleConnect(
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  connect: TunnelConnector,
  proxyName: string,
  log: LocalProxyLogger | undefined,
): void {
  socket.on('error', () => socket.destroy());
  if (socket instanceof net.Socket) socket.setNoDelay(true);

  let target;
  try {
    target = parseAuthority(req.url ?? '');
  } catch (err) {
    const relayErr = toRelayError(err, 'malformed-request');
    log?.debug('http connect refused', { code: relayErr.code, status: relayErr.status });
    endSocketWithError(socket, relayErr, proxyName);
    return;
  }

  const abort = new AbortController();
  socket.once('close', () => abort.abort());
  connect({ host: target.host, port: target.port }, abort.signal).then(
    (tunnel) => {
      if (socket.destroyed) {
        tunnel.destroy();
        return;
      }
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) tunnel.write(head);
      splice(socket, tunnel);
    },
    (err: unknown) => {
      const relayErr = toRelayError(err);
      log?.debug('http connect refused', { code: relayErr.code, status: relayErr.status });
      if (!socket.destroyed) endSocketWithError(socket, relayErr, proxyName);
    },
  );
}
