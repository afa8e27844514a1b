/**
 * Egress side of the inner session. Each trunk stream carries one client's TLS session,
 * which only the egress can open: it terminates that TLS with its own (pinned) key and
 * serves CONNECT flows on it, HTTP/2 (many flows) or HTTP/1.1 (one flow).
 *
 *   trunk stream ──TLS (egress key)──▶ tunnel server (h2 | http/1.1) ──CONNECT host:port──▶ openFlow
 *
 * Each flow goes through the phases of @splitrelay/transport's runTunnel: decide (parse the
 * target) → open (the caller's policy and dialler) → accept → join (splice or UDP bridge).
 *
 * Each inner session gets one context (`openSession`), made from the head of its first
 * request and passed to every flow of the session: what is decided for a session (the
 * egress's drawn source address, from the geo hint it carried) stays decided for all of its
 * flows, whatever later requests say.
 */
import type dgram from 'node:dgram';
import type http from 'node:http';
import type http2 from 'node:http2';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { parseAuthority, type Authority } from '@splitrelay/authority';
import { RelayError } from '@splitrelay/errors';
import { parseUdpPath } from '@splitrelay/connect-udp';
import {
  createTunnelServer,
  refuseOnResponse,
  refuseOnSocket,
  refuseOnStream,
  runTunnel,
  splice,
  type SpliceStats,
  tlsDefaults,
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

/** How a flow's answer goes out on its ALPN: success, and the one refusal. */
interface Answer {
  readonly accept: () => void;
  readonly refuse: (err: RelayError) => void;
}

const CONNECT_UDP_UPGRADE =
  'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: connect-udp\r\nCapsule-Protocol: ?1\r\n\r\n';

export function createInnerSessionServer<S = undefined>(
  options: InnerSessionServerOptions<S>,
): InnerSessionServer {
  const { proxyName } = options;
  /**
   * Contexts by inner connection (an h2 session, or the HTTP/1.1 connection's socket), so they
   * go with the session and are never looked up by anything a client sent.
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
  /** A flow's session context, read in the decide phase so a refusal there is the flow's. */
  type Context = () => S;
  let secureContext = tls.createSecureContext({
    ...tlsDefaults,
    cert: options.cert,
    key: options.key,
  });
  const onlyConnect = (): RelayError =>
    new RelayError('method-not-allowed', 'only CONNECT is served');

  const refuseWith = (answer: Answer) => (err: RelayError, target: Authority | undefined) => {
    options.onFlowRefused?.(err, target);
    answer.refuse(err);
  };

  /** A TCP flow: CONNECT host:port, spliced to the dialled socket. */
  const startFlow = (
    context: Context,
    authorityText: string,
    downstream: Duplex,
    answer: Answer,
  ): Promise<void> =>
    runTunnel({
      downstream,
      decide: () => {
        const session = context();
        return { target: parseAuthority(authorityText), session };
      },
      open: ({ target, session }, signal) => options.openFlow(target, signal, session),
      accept: answer.accept,
      join: (socket) =>
        splice(downstream, socket, {
          idleTimeoutMs: options.idleTimeoutMs,
          ...(options.onFlowDone ? { onDone: options.onFlowDone } : {}),
        }),
      refuse: (err, decided) => refuseWith(answer)(err, decided?.target),
    });

  /** A UDP flow: CONNECT-UDP (RFC 9298) to the URI template's target, bridged to a UDP socket. */
  const startUdp = (
    context: Context,
    path: string,
    downstream: Duplex,
    answer: Answer,
  ): Promise<void> =>
    runTunnel({
      downstream,
      decide: () => {
        if (!options.openUdp)
          throw new RelayError('method-not-allowed', 'UDP is not served by this egress');
        const session = context();
        return { target: parseUdpPath(path), openUdp: options.openUdp, session };
      },
      open: ({ target, openUdp, session }, signal) => openUdp(target, signal, session),
      accept: answer.accept,
      join: (socket) =>
        bridgeUdp(new DatagramStream(downstream), socket, {
          idleTimeoutMs: options.idleTimeoutMs,
          ...(options.onUdpDone ? { onDone: options.onUdpDone } : {}),
        }),
      refuse: (err, decided) => refuseWith(answer)(err, decided?.target),
    });

  const skeleton = createTunnelServer({
    proxyName,
    maxHeaderBytes: options.maxHeaderBytes,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    // Extended CONNECT (RFC 8441) carries CONNECT-UDP on HTTP/2 (RFC 9298 §3.3).
    h2Settings: {
      enableConnectProtocol: true,
      ...(options.maxFlowsPerSession === undefined
        ? {}
        : { maxConcurrentStreams: options.maxFlowsPerSession }),
    },
    onConnect(req: http.IncomingMessage, socket: Duplex) {
      const context = (): S => contextOf(req.socket, req.headers as RequestHead);
      void startFlow(context, req.url ?? '', socket, {
        accept: () => socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'),
        refuse: (err) => refuseOnSocket(socket, proxyName, err),
      });
    },
    // RFC 9298 §3.2: HTTP/1.1 CONNECT-UDP is a GET with `Upgrade: connect-udp`.
    onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer) {
      const refuse = (err: RelayError): void => refuseOnSocket(socket, proxyName, err);
      if (req.method !== 'GET' || String(req.headers.upgrade).toLowerCase() !== 'connect-udp') {
        refuse(new RelayError('method-not-allowed', 'only the connect-udp upgrade is served'));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      const context = (): S => contextOf(req.socket, req.headers as RequestHead);
      void startUdp(context, req.url ?? '', socket, {
        accept: () => socket.write(CONNECT_UDP_UPGRADE),
        refuse,
      });
    },
    onRequest(_req: http.IncomingMessage, res: http.ServerResponse) {
      refuseOnResponse(res, proxyName, onlyConnect());
    },
    onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) {
      const refuse = (err: RelayError): void => refuseOnStream(stream, proxyName, err);
      const protocol = headers[':protocol'];
      if (headers[':method'] !== 'CONNECT') {
        refuse(onlyConnect());
        return;
      }
      const key: object = stream.session ?? stream;
      const context = (): S => contextOf(key, headers as RequestHead);
      if (protocol === 'connect-udp') {
        void startUdp(context, headers[':path'] ?? '', stream, {
          accept: () => stream.respond({ ':status': 200, 'capsule-protocol': '?1' }),
          refuse,
        });
        return;
      }
      if (protocol !== undefined) {
        refuse(new RelayError('method-not-allowed', `protocol ${String(protocol)} is not served`));
        return;
      }
      void startFlow(context, headers[':authority'] ?? '', stream, {
        accept: () => stream.respond({ ':status': 200 }),
        refuse,
      });
    },
  });

  return {
    accept(stream: Duplex): void {
      skeleton.serveDuplex(stream, secureContext);
    },
    setIdentity(cert: string, key: string): void {
      secureContext = tls.createSecureContext({ ...tlsDefaults, cert, key });
    },
    get activeSessions() {
      return skeleton.connections;
    },
    close(): void {
      skeleton.close();
    },
  };
}
