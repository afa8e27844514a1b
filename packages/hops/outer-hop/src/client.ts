/**
 * Client side of the outer hop: one TLS connection to the ingress per inner session, with
 * an HTTP/1.1 CONNECT naming the egress. The inner TLS then runs directly on this
 * TLSSocket, which Node stacks natively (faster than TLS over an h2 stream, see
 * docs/design.md, "Performance facts").
 */
import http from 'node:http';
import tls from 'node:tls';
import { RelayError, refusalFromResponse } from '@splitrelay/errors';
import { relayDeadline, withDeadline, tlsDefaults, tuneSocket } from '@splitrelay/transport';
import type { Duplex } from 'node:stream';
import type { ClientOptions } from 'ws';

export interface IngressAddress {
  readonly host: string;
  readonly port: number;
  /** Name checked against the ingress certificate. */
  readonly servername: string;
  /** CA certificates (PEM) trusted for the ingress; the system store when absent. */
  readonly ca?: string | readonly string[];
}

export interface OuterTunnelOptions {
  readonly ingress: IngressAddress;
  readonly egressId: string;
  readonly handshakeTimeoutMs: number;
  readonly localAddress?: string;
  /** Extra request headers (e.g. Proxy-Authorization once tokens exist). */
  readonly headers?: Readonly<Record<string, string>>;
  /** `connect` (HTTP/1.1 CONNECT, the default and fastest) or `websocket`. */
  readonly carrier?: 'connect' | 'websocket';
}

export async function openOuterTunnel(
  options: OuterTunnelOptions,
  signal?: AbortSignal,
): Promise<Duplex> {
  return options.carrier === 'websocket'
    ? openWebSocketTunnel(options, signal)
    : openConnectTunnel(options, signal);
}

/** The WebSocket carrier: the same tunnel for networks that pass only WebSocket. */
async function openWebSocketTunnel(
  options: OuterTunnelOptions,
  signal?: AbortSignal,
): Promise<Duplex> {
  // Loaded here, not at the top: most clients use CONNECT, and ws is part of a cold start.
  const { WEBSOCKET_PATH_PREFIX, WebSocket, webSocketDuplex } = await import('./websocket.ts');
  const host = options.ingress.host.includes(':')
    ? `[${options.ingress.host}]`
    : options.ingress.host;
  // ws hands these to tls.connect; its own types omit the TLS ones (servername).
  const wsOptions: ClientOptions & tls.ConnectionOptions = {
    ...tlsDefaults,
    servername: options.ingress.servername,
    perMessageDeflate: false,
    maxPayload: 1024 * 1024,
    ...(options.headers ? { headers: { ...options.headers } } : {}),
    ...(options.ingress.ca ? { ca: options.ingress.ca as string[] } : {}),
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  };
  const ws = new WebSocket(
    `wss://${host}:${options.ingress.port}${WEBSOCKET_PATH_PREFIX}${options.egressId}`,
    wsOptions,
  );
  const opened = new Promise<Duplex>((resolve, reject) => {
    ws.once('open', () => resolve(webSocketDuplex(ws)));
    ws.once('unexpected-response', (_req, res: http.IncomingMessage) => {
      res.resume();
      ws.terminate();
      reject(ingressRefusal(res));
    });
    ws.once('error', (err: Error & { code?: string }) =>
      reject(
        err.code === 'ECONNREFUSED'
          ? new RelayError('egress-unavailable', 'ingress refused the connection', { cause: err })
          : new RelayError('tls-failed', 'could not reach the ingress', { cause: err }),
      ),
    );
  });
  try {
    return await withDeadline(
      opened,
      relayDeadline(
        options.handshakeTimeoutMs,
        signal,
        'egress-timeout',
        'ingress did not answer in time',
      ),
    );
  } catch (err) {
    ws.terminate();
    throw err;
  }
}

async function openConnectTunnel(
  options: OuterTunnelOptions,
  signal?: AbortSignal,
): Promise<tls.TLSSocket> {
  const socket = tls.connect({
    ...tlsDefaults,
    host: options.ingress.host,
    port: options.ingress.port,
    servername: options.ingress.servername,
    ALPNProtocols: ['http/1.1'],
    ...(options.ingress.ca ? { ca: options.ingress.ca as string[] } : {}),
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  tuneSocket(socket);
  socket.on('error', () => {});
  const authority = `${options.egressId}:443`;
  const established = new Promise<tls.TLSSocket>((resolve, reject) => {
    const req = http.request({
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...options.headers },
      createConnection: () => socket,
    });
    req.once('connect', (res: http.IncomingMessage, tunnel, head: Buffer) => {
      if (res.statusCode === 200) {
        if (head.length > 0) tunnel.unshift(head);
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(ingressRefusal(res));
    });
    req.once('error', (err: Error & { code?: string }) => {
      reject(
        err.code === 'ECONNREFUSED'
          ? new RelayError('egress-unavailable', 'ingress refused the connection', { cause: err })
          : new RelayError('tls-failed', 'could not reach the ingress', { cause: err }),
      );
    });
    req.end();
  });
  try {
    return await withDeadline(
      established,
      relayDeadline(
        options.handshakeTimeoutMs,
        signal,
        'egress-timeout',
        'ingress did not answer in time',
      ),
    );
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/**
 * The ingress's refusal as a RelayError, keeping what the caller may act on: the reason, when
 * to retry, and a Privacy Pass challenge (Proxy-Authenticate) to fetch tokens for.
 */
function ingressRefusal(res: http.IncomingMessage): RelayError {
  return refusalFromResponse(res.statusCode ?? 502, res.headers, { peer: 'ingress' });
}
