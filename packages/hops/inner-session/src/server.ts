/**
 * Egress side of the inner session. Each trunk stream carries one client's TLS session,
 * which only the egress can open: it terminates that TLS with its own (pinned) key and
 * serves CONNECT flows on it, HTTP/2 (many flows) or HTTP/1.1 (one flow).
 *
 *   trunk stream ──TLS (egress key)──▶ h2 or http/1.1 server ──CONNECT host:port──▶ openFlow
 *
 * Each inner session gets one context (`openSession`), made from the head of its first
 * request and passed to every flow of the session: what is decided for a session (the
 * egress's drawn source address, from the geo hint it carried) stays decided for all of its
 * flows, whatever later requests say.
 */
import type dgram from 'node:dgram';
import http from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { parseAuthority, type Authority } from '@splitrelay/authority';
import {
  RelayError,
  http1Refusal,
  parserErrorToRelayError,
  proxyStatusFor,
  toRelayError,
} from '@splitrelay/errors';
import { parseUdpPath } from '@splitrelay/connect-udp';
import {
  splice,
  type SpliceStats,
  H2_MAX_SESSION_MEMORY_MB,
  h2Settings,
  tlsDefaults,
  tuneH2Session,
} from '@splitrelay/transport';
import { DatagramStream } from './datagram-stream.ts';
import { bridgeUdp, type UdpBridgeStats } from './udp-bridge.ts';

/** A request head as Node gives it: lower-case names (h2 pseudo-headers included). */
export type RequestHead = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface InnerSessionServerOptions<S = undefined> {
  readonly cert: string;
  readonly key: string;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Largest request head accepted on HTTP/1.1 inner sessions (431 beyond). */
  readonly maxHeaderBytes: number;
  readonly proxyName: string;
  /**
   * Concurrent flows per h2 inner session, advertised as SETTINGS_MAX_CONCURRENT_STREAMS
   * (RFC 9113 §6.5.2): a client waits for a free slot, one that ignores the setting gets its
   * extra streams reset. Unbounded (Node's default) when absent. HTTP/1.1 sessions carry one flow.
   */
  readonly maxFlowsPerSession?: number;
  /**
   * Makes a session's context, once per inner session, from the head of its first request
   * (h2: the first stream's headers; HTTP/1.1: the CONNECT request's), before that request is
   * decided. Throwing a RelayError refuses that request (and the next one tries again).
   * Absent: every flow gets `undefined`.
   */
  readonly openSession?: (firstRequest: RequestHead) => S;
  /** Decides and dials a target; rejects with a RelayError that becomes the response. */
  readonly openFlow: (target: Authority, signal: AbortSignal, session: S) => Promise<Socket>;
  /** Decides and opens a connected UDP socket for a CONNECT-UDP flow; absent: UDP refused. */
  readonly openUdp?: (target: Authority, signal: AbortSignal, session: S) => Promise<dgram.Socket>;
  readonly onFlowRefused?: (err: RelayError, target: Authority | undefined) => void;
  readonly onFlowDone?: (stats: SpliceStats) => void;
  readonly onUdpDone?: (stats: UdpBridgeStats) => void;
}

export interface InnerSessionServer {
  /** Takes one trunk stream; the inner TLS handshake starts at once. */
  accept(stream: Duplex): void;
  readonly activeSessions: number;
  /** Key rotation: sessions that start from now on use the new key; open ones keep theirs. */
  setIdentity(cert: string, key: string): void;
  close(): void;
}

export function createInnerSessionServer<S = undefined>(
  options: InnerSessionServerOptions<S>,
): InnerSessionServer {
  let secureContext = tls.createSecureContext({
    ...tlsDefaults,
    cert: options.cert,
    key: options.key,
  });
  const sessions = new Set<tls.TLSSocket>();
  /**
   * Contexts by inner TLS socket (an h2 session's socket, or the HTTP/1.1 connection's), so
   * they go with the session and are never looked up by anything a client sent.
   */
  const contexts = new WeakMap<object, { value: S }>();
  function contextOf(key: object, head: RequestHead): S {
    let held = contexts.get(key);
    if (held === undefined) {
      held = { value: options.openSession ? options.openSession(head) : (undefined as S) };
      contexts.set(key, held);
    }
    return held.value;
  }

  // Extended CONNECT (RFC 8441) carries CONNECT-UDP on HTTP/2 (RFC 9298 §3.3).
  const h2 = http2.createServer({
    settings: h2Settings({
      enableConnectProtocol: true,
      ...(options.maxFlowsPerSession === undefined
        ? {}
        : { maxConcurrentStreams: options.maxFlowsPerSession }),
    }),
    maxSessionMemory: H2_MAX_SESSION_MEMORY_MB,
  });
  h2.on('session', (session) => {
    tuneH2Session(session);
    session.on('error', () => {});
  });
  h2.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on('error', () => {});
    const respond = (err: RelayError): void => {
      if (stream.destroyed || stream.headersSent) return;
      stream.respond(
        { ':status': err.status, 'proxy-status': proxyStatusFor(options.proxyName, err) },
        { endStream: true },
      );
    };
    if (headers[':method'] !== 'CONNECT') {
      respond(new RelayError('method-not-allowed', 'only CONNECT is served'));
      return;
    }
    const key: object = stream.session ?? stream;
    const head = headers as RequestHead;
    if (headers[':protocol'] === 'connect-udp') {
      void startUdp(
        () => contextOf(key, head),
        String(headers[':path'] ?? ''),
        stream,
        () => stream.respond({ ':status': 200, 'capsule-protocol': '?1' }),
        respond,
      );
      return;
    }
    if (headers[':protocol'] !== undefined) {
      respond(
        new RelayError(
          'method-not-allowed',
          `protocol ${String(headers[':protocol'])} is not served`,
        ),
      );
      return;
    }
    void startFlow(
      () => contextOf(key, head),
      String(headers[':authority'] ?? ''),
      stream,
      () => stream.respond({ ':status': 200 }),
      respond,
    );
  });

  const h1 = http.createServer({
    maxHeaderSize: options.maxHeaderBytes,
    requestTimeout: options.handshakeTimeoutMs,
  });
  h1.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const respond = (err: RelayError): void => {
      socket.end(http1Refusal(options.proxyName, err));
    };
    if (head.length > 0) socket.unshift(head);
    void startFlow(
      () => contextOf(req.socket, req.headers as RequestHead),
      req.url ?? '',
      socket,
      () => socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'),
      respond,
    );
  });
  // RFC 9298 §3.2: HTTP/1.1 CONNECT-UDP is a GET with `Upgrade: connect-udp`.
  h1.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const respond = (err: RelayError): void => {
      socket.end(http1Refusal(options.proxyName, err));
    };
    if (req.method !== 'GET' || String(req.headers.upgrade).toLowerCase() !== 'connect-udp') {
      respond(new RelayError('method-not-allowed', 'only the connect-udp upgrade is served'));
      return;
    }
    if (head.length > 0) socket.unshift(head);
    void startUdp(
      () => contextOf(req.socket, req.headers as RequestHead),
      req.url ?? '',
      socket,
      () =>
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: connect-udp\r\nCapsule-Protocol: ?1\r\n\r\n',
        ),
      respond,
    );
  });
  h1.on('request', (_req, res: http.ServerResponse) => {
    const err = new RelayError('method-not-allowed', 'only CONNECT is served');
    res
      .writeHead(err.status, {
        'proxy-status': proxyStatusFor(options.proxyName, err),
        connection: 'close',
      })
      .end();
  });
  h1.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    const relayErr = parserErrorToRelayError(err);
    if (socket.writable) socket.end(http1Refusal(options.proxyName, relayErr));
    else socket.destroy();
  });

  /**
   * The phases every flow goes through: decide the target from the request, open it (the
   * caller's policy and dialler; aborted if the client goes away first), answer, then join.
   * A refusal at any phase is answered with its status and reason.
   */
  async function startTunnel<T extends { close?(): void; destroy?(): void }>(
    context: () => S,
    downstream: Duplex,
    decide: () => Authority,
    open: (target: Authority, signal: AbortSignal, session: S) => Promise<T>,
    accepted: () => void,
    join: (upstream: T) => void,
    refuse: (err: RelayError) => void,
  ): Promise<void> {
    let target: Authority | undefined;
    const abort = new AbortController();
    const onGone = (): void => abort.abort();
    downstream.once('close', onGone);
    try {
      const session = context();
      target = decide();
      const upstream = await open(target, abort.signal, session);
      downstream.off('close', onGone);
      if (downstream.destroyed) {
        if (upstream.destroy) upstream.destroy();
        else upstream.close?.();
        return;
      }
      accepted();
      join(upstream);
    } catch (err) {
      downstream.off('close', onGone);
      const relayErr = toRelayError(err);
      options.onFlowRefused?.(relayErr, target);
      refuse(relayErr);
    }
  }

  function startFlow(
    context: () => S,
    authorityText: string,
    downstream: Duplex,
    accepted: () => void,
    refuse: (err: RelayError) => void,
  ): Promise<void> {
    return startTunnel(
      context,
      downstream,
      () => parseAuthority(authorityText),
      options.openFlow,
      accepted,
      (socket) =>
        splice(downstream, socket, {
          idleTimeoutMs: options.idleTimeoutMs,
          ...(options.onFlowDone ? { onDone: options.onFlowDone } : {}),
        }),
      refuse,
    );
  }

  function startUdp(
    context: () => S,
    path: string,
    downstream: Duplex,
    accepted: () => void,
    refuse: (err: RelayError) => void,
  ): Promise<void> {
    const openUdp = options.openUdp;
    return startTunnel(
      context,
      downstream,
      () => {
        if (!openUdp)
          throw new RelayError('method-not-allowed', 'UDP is not served by this egress');
        return parseUdpPath(path);
      },
      (target, signal, session) =>
        (openUdp as NonNullable<typeof openUdp>)(target, signal, session),
      accepted,
      (socket) =>
        bridgeUdp(new DatagramStream(downstream), socket, {
          idleTimeoutMs: options.idleTimeoutMs,
          ...(options.onUdpDone ? { onDone: options.onUdpDone } : {}),
        }),
      refuse,
    );
  }

  return {
    accept(stream: Duplex): void {
      const socket = new tls.TLSSocket(stream as Socket, {
        isServer: true,
        secureContext,
        ALPNProtocols: ['h2', 'http/1.1'],
      });
      sessions.add(socket);
      const timer = setTimeout(() => socket.destroy(), options.handshakeTimeoutMs);
      socket.on('error', () => {});
      socket.once('close', () => {
        clearTimeout(timer);
        sessions.delete(socket);
        stream.destroy();
      });
      socket.once('secure', () => {
        clearTimeout(timer);
        // A server-side TLSSocket built by hand keeps `secureConnecting` set, and the h2
        // server then never starts the session (docs/design.md, "Performance facts").
        (socket as unknown as { secureConnecting: boolean }).secureConnecting = false;
        if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
        else h1.emit('connection', socket);
      });
    },
    setIdentity(cert: string, key: string): void {
      secureContext = tls.createSecureContext({ ...tlsDefaults, cert, key });
    },
    get activeSessions() {
      return sessions.size;
    },
    close(): void {
      for (const s of sessions) s.destroy();
      h2.close();
      h1.close();
    },
  };
}
