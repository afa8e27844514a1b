/**
 * How the gateway reaches targets: an undici Agent whose every connection is opened by the
 * target dialer, so the target policy (private ranges refused unless allowlisted, ports, the
 * resolved addresses checked one by one) applies to every address undici ever uses, exactly as
 * for tunnels. Names are resolved here, at the egress.
 *
 *   agent.request(origin) ─▶ connect(opts) ─▶ dialer.dial(host, port, source()) ─┬─ http:  the socket
 *                                                                                └─ https: tls.connect({ socket })
 *
 * undici pools connections per origin across every client's requests: the target sees the
 * egress, and which client a request came from is not something the pool knows.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Agent, type buildConnector } from 'undici';
import { RelayError, toRelayError } from '@splitrelay/errors';
import type { SourceAddresses, TargetDialer } from '@splitrelay/target-dialer';

export interface OriginAgentOptions {
  readonly dialer: TargetDialer;
  /**
   * Where each new connection leaves from, asked once per connection (the egress draws it
   * from its address pools); absent, the dialer's own source.
   */
  readonly source?: () => SourceAddresses;
  /** TCP connect and, for https, the TLS handshake, ms. */
  readonly connectTimeoutMs: number;
  /** CAs trusted for https targets instead of Node's store (tests use a local CA). */
  readonly ca?: string | readonly string[];
  /** Idle pooled connections are closed after this long, ms (undici's keepAliveTimeout). */
  readonly keepAliveTimeoutMs?: number;
  /** Connections per origin at most. */
  readonly connectionsPerOrigin?: number;
}

export function originConnector(options: OriginAgentOptions): buildConnector.connector {
  const ca = typeof options.ca === 'string' ? options.ca : options.ca ? [...options.ca] : undefined;
  return (opts, callback) => {
    const https = opts.protocol === 'https:';
    // undici hands IPv6 literals in brackets, as in the URL.
    const host = opts.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(opts.port) || (https ? 443 : 80);
    const abort = new AbortController();
    let settled = false;
    const settle = (err: Error | null, socket: net.Socket | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        abort.abort();
        socket?.destroy();
        callback(err, null);
      } else callback(null, socket as net.Socket);
    };
    const timer = setTimeout(
      () => settle(new RelayError('connection-timeout', 'target connect timed out'), null),
      options.connectTimeoutMs,
    );
    options.dialer.dial({ host, port, kind: 'tcp' }, abort.signal, options.source?.()).then(
      (socket) => {
        if (settled) {
          socket.destroy();
          return;
        }
        if (!https) {
          settle(null, socket);
          return;
        }
        const secured = tls.connect({
          socket,
          host,
          ...(net.isIP(host) === 0 ? { servername: opts.servername || host } : {}),
          ALPNProtocols: ['http/1.1'],
          ...(ca !== undefined ? { ca } : {}),
        });
        const onError = (err: Error): void => {
          socket.destroy();
          settle(new RelayError('tls-failed', 'target TLS handshake failed', { cause: err }), null);
        };
        secured.once('error', onError);
        secured.once('secureConnect', () => {
          secured.removeListener('error', onError);
          settle(null, secured);
        });
      },
      (err: unknown) => settle(toRelayError(err, 'connection-terminated'), null),
    );
  };
}

export function createOriginAgent(options: OriginAgentOptions): Agent {
  return new Agent({
    connect: originConnector(options),
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4000,
    ...(options.connectionsPerOrigin !== undefined
      ? { connections: options.connectionsPerOrigin }
      : {}),
  });
}
