/**
 * The ingress's client-facing listener: TLS 1.3 with ALPN `h2` and `http/1.1`, accepting
 * only CONNECT to an egress by its directory name. What the client sends after the CONNECT
 * is its inner TLS session; this code never parses it, it only carries it.
 *
 *   client ──TLS──▶ [ALPN h2 → h2 server | http/1.1 → http server] ──CONNECT egress:443──▶ openTunnel
 */
import http from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import {
  RelayError,
  http1Refusal,
  parserErrorToRelayError,
  proxyStatusFor,
  refusalHeaders,
  toRelayError,
} from '@splitrelay/errors';
import {
  splice,
  type SpliceStats,
  H2_MAX_SESSION_MEMORY_MB,
  h2Settings,
  tlsDefaults,
  tuneH2Session,
  tuneSocket,
} from '@splitrelay/transport';
import { egressIdFromAuthority, egressIdFromWebSocketPath } from './egress-id.ts';
import { acceptWebSocket, createWebSocketServer } from './websocket.ts';

export interface TunnelRequest {
  readonly egressId: string;
  /** The client's address as this listener sees it. */
  readonly clientAddr: string;
  readonly alpn: 'h2' | 'http/1.1';
  /** The client's `Proxy-Authorization` (a Privacy Pass token), unparsed. */
  readonly proxyAuthorization: string | undefined;
}

export interface OuterHopServerOptions {
  readonly cert: string;
  readonly key: string;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly proxyName: string;
  /** Returns the upstream stream for an accepted tunnel, or rejects with a RelayError. */
  readonly openTunnel: (request: TunnelRequest, signal: AbortSignal) => Promise<Duplex>;
  /** Plain GET handlers (e.g. the directory); anything else is refused with 405. */
  readonly routes?: Readonly<Record<string, () => { type: string; body: string | Buffer }>>;
  readonly onRefusal?: (err: RelayError, request: Partial<TunnelRequest>) => void;
  readonly onTunnelDone?: (stats: SpliceStats) => void;
}

export function createOuterHopServer(options: OuterHopServerOptions): tls.Server {
  const refusalHead = (err: RelayError): string => http1Refusal(options.proxyName, err);

  const spliceOptions = () => ({
    idleTimeoutMs: options.idleTimeoutMs,
    ...(options.onTunnelDone ? { onDone: options.onTunnelDone } : {}),
  });

  async function tunnel(
    authority: string,
    clientAddr: string,
    alpn: TunnelRequest['alpn'],
    proxyAuthorization: string | string[] | undefined,
    downstream: Duplex,
    accept: () => void,
    refuse: (err: RelayError) => void,
    join: (upstream: Duplex) => void | Promise<void> = (upstream) =>
      splice(downstream, upstream, spliceOptions()),
  ): Promise<void> {
    const abort = new AbortController();
    const onGone = (): void => abort.abort();
    downstream.once('close', onGone);
    let request: Partial<TunnelRequest> = { clientAddr, alpn };
    try {
      // Node joins repeated headers; h2 may hand an array. Either way, two tokens is one too many.
      if (Array.isArray(proxyAuthorization) && proxyAuthorization.length > 1) {
        throw new RelayError('malformed-request', 'more than one Proxy-Authorization');
      }
      request = {
        ...request,
        // Only the egress id may come out of the request: nothing else is read.
        egressId: egressIdFromAuthority(authority),
        proxyAuthorization: Array.isArray(proxyAuthorization)
          ? proxyAuthorization[0]
          : proxyAuthorization,
      };
      const upstream = await options.openTunnel(request as TunnelRequest, abort.signal);
      downstream.off('close', onGone);
      if (downstream.destroyed) {
        upstream.destroy();
        return;
      }
      accept();
      await join(upstream);
    } catch (err) {
      downstream.off('close', onGone);
      const relayErr = toRelayError(err);
      options.onRefusal?.(relayErr, request);
      refuse(relayErr);
    }
  }

  const h1 = http.createServer({
    maxHeaderSize: options.maxHeaderBytes,
    requestTimeout: options.handshakeTimeoutMs,
    headersTimeout: options.handshakeTimeoutMs,
  });
  h1.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    if (head.length > 0) socket.unshift(head);
    const clientAddr = req.socket.remoteAddress ?? '';
    void tunnel(
      req.url ?? '',
      clientAddr,
      'http/1.1',
      req.headers['proxy-authorization'],
      socket,
      () => socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'),
      (err) => socket.end(refusalHead(err)),
    );
  });
  const wss = createWebSocketServer();
  h1.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const clientAddr = req.socket.remoteAddress ?? '';
    const egressId = egressIdFromWebSocketPath(req.url ?? '');
    const refuse = (err: RelayError): void => {
      options.onRefusal?.(err, { clientAddr, alpn: 'http/1.1' });
      socket.end(refusalHead(err));
    };
    if (req.method !== 'GET' || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      refuse(new RelayError('method-not-allowed', 'only the WebSocket carrier upgrade is served'));
      return;
    }
    if (egressId === undefined) {
      refuse(new RelayError('unknown-egress', 'tunnels go to an egress by its directory name'));
      return;
    }
    // The egress must accept before the upgrade, so a refusal is still an HTTP status.
    void tunnel(
      `${egressId}:443`,
      clientAddr,
      'http/1.1',
      req.headers['proxy-authorization'],
      socket,
      () => {},
      (err) => socket.end(refusalHead(err)),
      async (upstream) =>
        splice(await acceptWebSocket(wss, req, socket, head), upstream, spliceOptions()),
    );
  });
  h1.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const route = req.method === 'GET' ? options.routes?.[req.url ?? ''] : undefined;
    if (route) {
      const { type, body } = route();
      res
        .writeHead(200, {
          'content-type': type,
          'content-length': Buffer.byteLength(body),
          'cache-control': 'no-store',
        })
        .end(body);
      return;
    }
    const err = new RelayError('method-not-allowed', 'this relay serves CONNECT to an egress only');
    options.onRefusal?.(err, { alpn: 'http/1.1' });
    res.writeHead(err.status, {
      'proxy-status': proxyStatusFor(options.proxyName, err),
      connection: 'close',
    });
    res.end(`${err.details}\n`);
  });
  h1.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    const relayErr = parserErrorToRelayError(err);
    options.onRefusal?.(relayErr, { alpn: 'http/1.1' });
    if (socket.writable) socket.end(refusalHead(relayErr));
    else socket.destroy();
  });

  const h2 = http2.createServer({
    settings: h2Settings(),
    maxHeaderListPairs: 64,
    maxSessionMemory: H2_MAX_SESSION_MEMORY_MB,
  });
  h2.on('session', (session) => {
    tuneH2Session(session);
    session.on('error', () => {});
  });
  h2.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on('error', () => {});
    const refuse = (err: RelayError): void => {
      if (stream.destroyed || stream.headersSent) return;
      stream.respond({ ':status': err.status, ...refusalHeaders(options.proxyName, err) });
      stream.end(`${err.details}\n`);
    };
    const clientAddr = stream.session?.socket.remoteAddress ?? '';
    if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== undefined) {
      const route =
        headers[':method'] === 'GET' ? options.routes?.[String(headers[':path'])] : undefined;
      if (route) {
        const { type, body } = route();
        stream.respond({ ':status': 200, 'content-type': type, 'cache-control': 'no-store' });
        stream.end(body);
        return;
      }
      const err = new RelayError(
        'method-not-allowed',
        'this relay serves CONNECT to an egress only',
      );
      options.onRefusal?.(err, { clientAddr, alpn: 'h2' });
      refuse(err);
      return;
    }
    void tunnel(
      String(headers[':authority'] ?? ''),
      clientAddr,
      'h2',
      headers['proxy-authorization'],
      stream,
      () => stream.respond({ ':status': 200 }),
      refuse,
    );
  });

  const server = tls.createServer({
    ...tlsDefaults,
    cert: options.cert,
    key: options.key,
    ALPNProtocols: ['h2', 'http/1.1'],
    handshakeTimeout: options.handshakeTimeoutMs,
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    tuneSocket(socket);
    socket.on('error', () => {});
    if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
    else h1.emit('connection', socket);
  });
  // Node leaves a socket that failed its handshake (or timed out) open unless told.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  server.on('close', () => {
    h1.close();
    h2.close();
  });
  return server;
}
