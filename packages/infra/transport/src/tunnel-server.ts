/**
 * The skeleton both tunnel servers share: the ingress's client-facing listener and the egress's
 * inner sessions. A TLS connection whose handshake is done goes by its ALPN to an HTTP/1.1 or
 * an HTTP/2 server; neither of those ever listen()s, they only get connections handed to them.
 *
 *   TLS socket ─ALPN h2───────▶ h2 server ──'stream'──▶ onStream(stream, headers)
 *              └ALPN http/1.1─▶ h1 server ──CONNECT───▶ onConnect(req, socket)
 *                                         ──Upgrade───▶ onUpgrade(req, socket, head)
 *                                         ──other─────▶ onRequest(req, res)
 *                                         ──bad head──▶ 400 / 431 refusal
 *
 * What each server does with a request is its own (the phases of tunnel-phases.ts); what every
 * connection needs (error listeners, the h2 set-up, parser refusals, closing) is here.
 */
import http from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { parserErrorToRelayError, type RelayError } from '@splitrelay/errors';
import { h2SessionOptions, setUpH2Session } from './h2-session.ts';
import { refuseOnSocket } from './refusal-writers.ts';

export type Alpn = 'h2' | 'http/1.1';

export const TUNNEL_ALPN_PROTOCOLS: readonly Alpn[] = ['h2', 'http/1.1'];

export interface TunnelServerOptions {
  /** Name written in Proxy-Status members. */
  readonly proxyName: string;
  /** Largest HTTP/1.1 request head (431 beyond). */
  readonly maxHeaderBytes: number;
  /** Header fields per h2 request at most; Node's default (128) when absent. */
  readonly maxHeaderListPairs?: number;
  /** SETTINGS added to the relay's h2 defaults (e.g. maxConcurrentStreams). */
  readonly h2Settings?: http2.Settings;
  /** Bounds `serveDuplex`'s TLS handshake (sockets given to `serve` already finished theirs). */
  readonly handshakeTimeoutMs: number;
  /** HTTP/1.1 CONNECT; bytes that came with the head are already back in `socket`. */
  readonly onConnect: (req: http.IncomingMessage, socket: Duplex) => void;
  /** HTTP/1.1 Upgrade; absent, an upgrade is an ordinary request. */
  readonly onUpgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Any other HTTP/1.1 request. */
  readonly onRequest: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  readonly onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;
  /** Every refusal the skeleton writes itself (a malformed or oversized HTTP/1.1 head). */
  readonly onRefusal?: (err: RelayError, alpn: Alpn) => void;
}

export interface TunnelServer {
  /** Serves one TLS connection whose handshake completed (e.g. a tls.Server's). */
  serve(socket: tls.TLSSocket): void;
  /**
   * Runs the server side of TLS over a byte stream (a trunk stream carrying a client's inner
   * session), then serves it. The stream is destroyed with the TLS socket.
   */
  serveDuplex(stream: Duplex, secureContext: tls.SecureContext): tls.TLSSocket;
  /** TLS connections open now. */
  readonly connections: number;
  /** Destroys every connection. */
  close(): void;
}

export function createTunnelServer(options: TunnelServerOptions): TunnelServer {
  const open = new Set<tls.TLSSocket>();

  const h1 = http.createServer({ maxHeaderSize: options.maxHeaderBytes });
  h1.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    if (head.length > 0) socket.unshift(head);
    options.onConnect(req, socket);
  });
  const onUpgrade = options.onUpgrade;
  if (onUpgrade) {
    h1.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      onUpgrade(req, socket, head);
    });
  }
  h1.on('request', options.onRequest);
  h1.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    const relayErr = parserErrorToRelayError(err);
    options.onRefusal?.(relayErr, 'http/1.1');
    refuseOnSocket(socket, options.proxyName, relayErr);
  });

  const h2 = http2.createServer({
    ...h2SessionOptions(options.h2Settings),
    ...(options.maxHeaderListPairs === undefined
      ? {}
      : { maxHeaderListPairs: options.maxHeaderListPairs }),
  });
  h2.on('session', setUpH2Session);
  h2.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on('error', () => {});
    options.onStream(stream, headers);
  });

  function serve(socket: tls.TLSSocket): void {
    socket.on('error', () => {});
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    // A server-side TLSSocket built by hand keeps `secureConnecting` set, and the h2 server
    // then never starts the session (docs/design.md, "Performance facts").
    (socket as unknown as { secureConnecting: boolean }).secureConnecting = false;
    if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
    else h1.emit('connection', socket);
  }

  return {
    serve,
    serveDuplex(stream, secureContext) {
      const socket = new tls.TLSSocket(stream as Socket, {
        isServer: true,
        secureContext,
        ALPNProtocols: [...TUNNEL_ALPN_PROTOCOLS],
      });
      open.add(socket);
      const timer = setTimeout(() => socket.destroy(), options.handshakeTimeoutMs);
      socket.on('error', () => {});
      socket.once('close', () => {
        clearTimeout(timer);
        open.delete(socket);
        stream.destroy();
      });
      // The carrier failing (a reset trunk stream) is this connection failing.
      stream.once('close', () => socket.destroy());
      // The client finished sending on the session's transport. On h2 that is the end of the
      // session (flows end with END_STREAM, never by half-closing the transport), so its flows
      // and their target sockets go now, not at the idle timeout. On HTTP/1.1 the session is
      // one flow, and its half-close is the flow's own: splice carries it to the target.
      stream.once('end', () => {
        if (socket.alpnProtocol === 'h2') socket.destroy();
      });
      socket.once('secure', () => {
        clearTimeout(timer);
        serve(socket);
      });
      return socket;
    },
    get connections() {
      return open.size;
    },
    close() {
      for (const socket of open) socket.destroy();
      h1.close();
      h2.close();
    },
  };
}
