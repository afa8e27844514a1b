/**
 * The ingress's client-facing listener: TLS 1.3 with ALPN `h2` and `http/1.1`, accepting
 * only CONNECT to an egress by its directory name. What the client sends after the CONNECT
 * is its inner TLS session; this code never parses it, it only carries it.
 *
 *   client ──TLS──▶ tunnel server (ALPN h2 | http/1.1) ──CONNECT egress:443──▶ openTunnel
 *
 * Each tunnel goes through the phases of @splitrelay/transport's runTunnel: decide (the
 * egress id, the token header) → open (the caller's admission and trunk) → accept → join.
 */
import type http from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { Duplex, Readable, Writable } from 'node:stream';
import { RelayError } from '@splitrelay/errors';
import {
  createTunnelServer,
  refuseOnResponse,
  refuseOnSocket,
  refuseOnStream,
  runTunnel,
  splice,
  type SpliceStats,
  TUNNEL_ALPN_PROTOCOLS,
  tlsDefaults,
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

/** A plain request (not a CONNECT, not a GET route): e.g. an Oblivious HTTP relay POST. */
export interface PlainRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly clientAddr: string;
  readonly alpn: 'h2' | 'http/1.1';
  /** The client's TLS connection, as a key for state that lives as long as it (never sent on). */
  readonly connection: object;
  readonly body: Readable;
  /** Aborts when the client goes away before the answer is complete. */
  readonly signal: AbortSignal;
}

export interface PlainReply {
  /** Sends the status and headers once; returns where the body goes. */
  start(status: number, headers: Readonly<Record<string, string | number>>): Writable;
  readonly started: boolean;
  /**
   * After an answer sent before the request body was read (a refusal): the rest of the body
   * is not wanted. h2 resets the stream once the answer is out; HTTP/1.1 drains it, and closes
   * the connection if it has not ended in a second.
   */
  abandon(): void;
}

/** How long an HTTP/1.1 client may go on sending a refused body before its connection ends. */
const ABANDON_GRACE_MS = 1000;

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
  /** Other requests: returns true when it took the request, false for the usual 405. */
  readonly onRequest?: (request: PlainRequest, reply: PlainReply) => boolean;
  readonly onRefusal?: (err: RelayError, request: Partial<TunnelRequest>) => void;
  readonly onTunnelDone?: (stats: SpliceStats) => void;
}

/** What a tunnel request carries, as it arrived on either ALPN. */
interface TunnelAsk {
  readonly authority: string;
  readonly clientAddr: string;
  readonly alpn: TunnelRequest['alpn'];
  readonly proxyAuthorization: string | string[] | undefined;
}

/** The decide phase: the egress id and the one token header, or a refusal. */
function decideTunnel(ask: TunnelAsk): TunnelRequest {
  const { proxyAuthorization } = ask;
  // Node joins repeated headers; h2 may hand an array. Either way, two tokens is one too many.
  if (Array.isArray(proxyAuthorization) && proxyAuthorization.length > 1) {
    throw new RelayError('malformed-request', 'more than one Proxy-Authorization');
  }
  return {
    // Only the egress id may come out of the request: nothing else is read.
    egressId: egressIdFromAuthority(ask.authority),
    clientAddr: ask.clientAddr,
    alpn: ask.alpn,
    proxyAuthorization: Array.isArray(proxyAuthorization)
      ? proxyAuthorization[0]
      : proxyAuthorization,
  };
}

/** An HTTP/1.1 plain request as the onRequest hook sees it. */
function plainFromH1(
  req: http.IncomingMessage,
  res: http.ServerResponse,
): [PlainRequest, PlainReply] {
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const request: PlainRequest = {
    method: req.method ?? '',
    path: req.url ?? '',
    headers: req.headers,
    clientAddr: req.socket.remoteAddress ?? '',
    alpn: 'http/1.1',
    connection: req.socket,
    body: req,
    signal: abort.signal,
  };
  const reply: PlainReply = {
    start(status, headers) {
      res.writeHead(status, headers);
      return res;
    },
    get started() {
      return res.headersSent;
    },
    abandon() {
      if (req.complete) return;
      req.resume();
      setTimeout(() => {
        if (!req.complete) req.socket.destroy();
      }, ABANDON_GRACE_MS).unref();
    },
  };
  return [request, reply];
}

/** An h2 plain request (a stream that is not a CONNECT) as the onRequest hook sees it. */
function plainFromH2(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  clientAddr: string,
): [PlainRequest, PlainReply] {
  const abort = new AbortController();
  stream.once('close', () => {
    if (!stream.writableFinished) abort.abort();
  });
  const request: PlainRequest = {
    method: String(headers[':method'] ?? ''),
    path: String(headers[':path'] ?? ''),
    headers,
    clientAddr,
    alpn: 'h2',
    connection: stream.session ?? stream,
    body: stream,
    signal: abort.signal,
  };
  const reply: PlainReply = {
    start(status, extra) {
      stream.respond({ ':status': status, ...extra });
      return stream;
    },
    get started() {
      return stream.headersSent;
    },
    abandon() {
      const reset = (): void => {
        setImmediate(() => {
          if (!stream.closed && !stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
        });
      };
      // Closing before the answer is framed would drop it: after it is written.
      if (stream.writableFinished) reset();
      else stream.once('finish', reset);
    },
  };
  return [request, reply];
}

export function createOuterHopServer(options: OuterHopServerOptions): tls.Server {
  const { proxyName } = options;
  const spliceOptions = {
    idleTimeoutMs: options.idleTimeoutMs,
    ...(options.onTunnelDone ? { onDone: options.onTunnelDone } : {}),
  };
  const report = (err: RelayError, ask: TunnelAsk, decided?: TunnelRequest): void =>
    options.onRefusal?.(err, decided ?? { clientAddr: ask.clientAddr, alpn: ask.alpn });

  /** CONNECT on either ALPN: the tunnel is the downstream itself once answered. */
  const connectTunnel = (
    ask: TunnelAsk,
    downstream: Duplex,
    accept: () => void,
    refuse: (err: RelayError) => void,
  ): Promise<void> =>
    runTunnel({
      downstream,
      decide: () => decideTunnel(ask),
      open: options.openTunnel,
      accept,
      join: (upstream) => splice(downstream, upstream, spliceOptions),
      refuse: (err, decided) => {
        report(err, ask, decided);
        refuse(err);
      },
    });

  const wss = createWebSocketServer();
  const routed = (method: string | undefined, path: string | undefined) =>
    method === 'GET' && path !== undefined ? options.routes?.[path] : undefined;
  const notServed = (): RelayError =>
    new RelayError('method-not-allowed', 'this relay serves CONNECT to an egress only');

  const skeleton = createTunnelServer({
    proxyName,
    maxHeaderBytes: options.maxHeaderBytes,
    maxHeaderListPairs: 64,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    onRefusal: (err, alpn) => options.onRefusal?.(err, { alpn }),
    onConnect(req: http.IncomingMessage, socket: Duplex) {
      void connectTunnel(
        {
          authority: req.url ?? '',
          clientAddr: req.socket.remoteAddress ?? '',
          alpn: 'http/1.1',
          proxyAuthorization: req.headers['proxy-authorization'],
        },
        socket,
        () => socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'),
        (err) => refuseOnSocket(socket, proxyName, err),
      );
    },
    onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer) {
      const ask: TunnelAsk = {
        authority: '',
        clientAddr: req.socket.remoteAddress ?? '',
        alpn: 'http/1.1',
        proxyAuthorization: req.headers['proxy-authorization'],
      };
      const refuse = (err: RelayError, decided?: TunnelRequest): void => {
        report(err, ask, decided);
        refuseOnSocket(socket, proxyName, err);
      };
      if (req.method !== 'GET' || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
        refuse(
          new RelayError('method-not-allowed', 'only the WebSocket carrier upgrade is served'),
        );
        return;
      }
      const egressId = egressIdFromWebSocketPath(req.url ?? '');
      if (egressId === undefined) {
        refuse(new RelayError('unknown-egress', 'tunnels go to an egress by its directory name'));
        return;
      }
      // The egress must accept before the upgrade, so a refusal is still an HTTP status.
      void runTunnel({
        downstream: socket,
        decide: () => decideTunnel({ ...ask, authority: `${egressId}:443` }),
        open: options.openTunnel,
        accept: () => acceptWebSocket(wss, req, socket, head),
        join: (upstream, carrier) => splice(carrier, upstream, spliceOptions),
        refuse,
      });
    },
    onRequest(req: http.IncomingMessage, res: http.ServerResponse) {
      const route = routed(req.method, req.url);
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
      if (options.onRequest?.(...plainFromH1(req, res))) return;
      const err = notServed();
      options.onRefusal?.(err, { alpn: 'http/1.1' });
      refuseOnResponse(res, proxyName, err);
    },
    onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) {
      const clientAddr = stream.session?.socket.remoteAddress ?? '';
      const refuse = (err: RelayError): void => refuseOnStream(stream, proxyName, err);
      if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== undefined) {
        const route = routed(headers[':method'], headers[':path']);
        if (route) {
          const { type, body } = route();
          stream.respond({ ':status': 200, 'content-type': type, 'cache-control': 'no-store' });
          stream.end(body);
          return;
        }
        if (options.onRequest?.(...plainFromH2(stream, headers, clientAddr))) return;
        const err = notServed();
        options.onRefusal?.(err, { clientAddr, alpn: 'h2' });
        refuse(err);
        return;
      }
      void connectTunnel(
        {
          authority: headers[':authority'] ?? '',
          clientAddr,
          alpn: 'h2',
          proxyAuthorization: headers['proxy-authorization'],
        },
        stream,
        () => stream.respond({ ':status': 200 }),
        refuse,
      );
    },
  });

  const server = tls.createServer({
    ...tlsDefaults,
    cert: options.cert,
    key: options.key,
    ALPNProtocols: [...TUNNEL_ALPN_PROTOCOLS],
    handshakeTimeout: options.handshakeTimeoutMs,
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    tuneSocket(socket);
    skeleton.serve(socket);
  });
  // Node leaves a socket that failed its handshake (or timed out) open unless told.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  server.on('close', () => skeleton.close());
  return server;
}
