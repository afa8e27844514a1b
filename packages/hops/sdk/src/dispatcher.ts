/**
 * An undici Dispatcher whose connections are SplitRelay flows, so `fetch(url, { dispatcher })`
 * goes through both relays and keeps undici's pooling, keep-alive and HTTP/1.1 parsing. For
 * https origins the origin's TLS runs end to end on the flow: neither relay can read it, and
 * the origin's certificate is checked as usual.
 *
 *   undici connect(opts) ─▶ FlowConnector(host, port) ─▶ flow ─┬─ http:  flow is the socket
 *                                                              └─ https: tls.connect({ socket: flow })
 *   one deadline covers both steps; the callback runs exactly once.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { Agent, type buildConnector } from 'undici';
import { RelayError, toRelayError } from '@splitrelay/errors';
import { tuneSocket } from '@splitrelay/transport';
import type { Target } from './client.ts';

/** "Give me a Duplex to X" (docs/design.md, "The code"); rejects with a RelayError saying why not. */
export type FlowConnector = (target: Target, signal?: AbortSignal) => Promise<Duplex>;

export interface DispatcherOptions {
  /**
   * CA certificates trusted for https origins, instead of Node's default store (as `tls`'s own
   * `ca` option: tests use a local CA). Node's default store when absent.
   */
  readonly ca?: string | readonly string[];
  /** Time for the flow and, for https, the origin's TLS handshake, ms. Default 10 s (undici's). */
  readonly connectTimeoutMs?: number;
  readonly agent?: Omit<Agent.Options, 'connect'>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * undici 8's connector contract (`(options, callback)`, types/connector.d.ts). undici reads
 * and writes the returned stream like a socket and needs no other Socket member: `ref`,
 * `unref` and `alpnProtocol` are checked before use, so a plain Duplex (an h2 stream) works.
 */
export function flowConnector(
  connect: FlowConnector,
  options: DispatcherOptions = {},
): buildConnector.connector {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const ca = typeof options.ca === 'string' ? options.ca : options.ca ? [...options.ca] : undefined;

  return (opts, callback) => {
    const https = opts.protocol === 'https:';
    if (!https && opts.protocol !== 'http:') {
      callback(
        new RelayError('malformed-request', `${opts.protocol} origins are not supported`),
        null,
      );
      return;
    }
    const host = opts.hostname;
    const port = Number(opts.port) || (https ? 443 : 80);
    const abort = new AbortController();
    let flow: Duplex | undefined;
    let secured: tls.TLSSocket | undefined;
    let settled = false;

    // undici takes exactly one answer per connect: a flow after the deadline or a TLS error
    // after the hand-over must not produce a second.
    const settle = (err: Error | null, socket: Duplex | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        abort.abort();
        secured?.destroy();
        flow?.destroy();
        callback(err, null);
      } else {
        callback(null, socket as net.Socket);
      }
    };
    const timer = setTimeout(
      () => settle(new RelayError('connection-timeout', 'origin connect timed out'), null),
      timeoutMs,
    );

    connect({ host, port }, abort.signal).then(
      (opened) => {
        if (settled) {
          opened.destroy();
          return;
        }
        flow = opened;
        // A flow that is a real TCP socket (a direct connector, the tests) must not wait on
        // Nagle: tls.connect does not turn it off (docs/design.md, "Performance facts").
        if (opened instanceof net.Socket) tuneSocket(opened);
        if (!https) {
          settle(null, opened);
          return;
        }
        const socket = tls.connect({
          socket: opened,
          // `host` is what the certificate is checked against; SNI may not carry an address.
          host,
          ...(net.isIP(host) === 0 ? { servername: opts.servername || host } : {}),
          ALPNProtocols: ['http/1.1'],
          ...(ca !== undefined ? { ca } : {}),
        });
        secured = socket;
        const onError = (err: Error): void => settle(err, null);
        socket.once('error', onError);
        socket.once('secureConnect', () => {
          // From here undici owns the socket and its errors.
          socket.removeListener('error', onError);
          settle(null, socket);
        });
      },
      // A RelayError from the connector is already what the caller should be told.
      (err: unknown) => settle(toRelayError(err, 'connection-terminated'), null),
    );
  };
}

export function createDispatcher(connect: FlowConnector, options: DispatcherOptions = {}): Agent {
  return new Agent({ ...options.agent, connect: flowConnector(connect, options) });
}
