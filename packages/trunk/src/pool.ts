/**
 * Ingress side of the trunk: a pool of long-lived, mutually authenticated TLS HTTP/2
 * connections per egress. Each client session becomes one CONNECT stream on a trunk
 * connection. The request names only the egress: nothing about the client is added.
 */
import http2 from 'node:http2';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { RelayError, codeFromResponse, parseProxyStatus } from '@splitrelay/errors';
import { h2Settings, tlsDefaults, tuneH2Session, tuneSocket } from '@splitrelay/net-tuning';
import { assertPinned, withDeadline } from '@splitrelay/io';


export interface TrunkTarget {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly pins: readonly string[];
}

export interface TrunkPoolOptions {
  /** This ingress's client certificate and key (PEM), known to the egress operator. */
  readonly cert: string;
  readonly key: string;
  readonly connectTimeoutMs: number;
  /** Source address for trunk connections (the ingress's own address). */
  readonly localAddress?: string;
  /** Streams per trunk connection before another connection is opened. */
  readonly maxStreamsPerConnection?: number;
  /** Connections per egress at most. */
  readonly maxConnectionsPerEgress?: number;
}

interface TrunkConnection {
  readonly session: http2.ClientHttp2Session;
  readonly ready: Promise<void>;
  streams: number;
}

export class TrunkPool {
  readonly #options: TrunkPoolOptions;
  readonly #connections = new Map<string, TrunkConnection[]>();
  #closed = false;

  constructor(options: TrunkPoolOptions) {
    this.#options = options;
  }

  /** Opens one tunnel stream to `egress`; resolves once the egress accepted it. */
  async open(egress: TrunkTarget, signal?: AbortSignal): Promise<Duplex> {
    if (this.#closed) throw new RelayError('internal', 'trunk pool is closed');
    const conn = this.#pick(egress);
    await withDeadline(conn.ready, this.#options.connectTimeoutMs, signal, 'egress-timeout', 'trunk handshake timed out');
    conn.streams++;
    const stream = conn.session.request({ ':method': 'CONNECT', ':authority': `${egress.id}:443` });
    stream.once('close', () => conn.streams--);
    stream.on('error', () => {});
    const [headers] = await withDeadline(
      onceResponse(stream),
      this.#options.connectTimeoutMs,
      signal,
      'egress-timeout',
      'egress did not answer the tunnel request',
    ).catch((err: unknown) => {
      stream.destroy();
      throw err;
    });
    const status = Number(headers[':status']);
    if (status !== 200) {
      stream.destroy();
      const member = parseProxyStatus(String(headers['proxy-status'] ?? ''))[0];
      throw new RelayError(codeFromResponse(status, member?.error), member?.details ?? `egress answered ${status}`);
    }
    return stream;
  }

  /** Trunk connections currently open, per egress id (for health and tests). */
  connectionCounts(): Record<string, number> {
    return Object.fromEntries([...this.#connections].map(([id, list]) => [id, list.length]));
  }

  close(): void {
    this.#closed = true;
    for (const list of this.#connections.values()) for (const c of list) c.session.destroy();
    this.#connections.clear();
  }

  #pick(egress: TrunkTarget): TrunkConnection {
    const list = this.#connections.get(egress.id) ?? [];
    this.#connections.set(egress.id, list);
    const maxStreams = this.#options.maxStreamsPerConnection ?? 1000;
    const live = list.filter((c) => !c.session.closed && !c.session.destroyed);
    const best = live.sort((a, b) => a.streams - b.streams)[0];
    if (best && (best.streams < maxStreams || live.length >= (this.#options.maxConnectionsPerEgress ?? 4))) {
      return best;
    }
    const conn = this.#connect(egress);
    list.push(conn);
    return conn;
  }

  #connect(egress: TrunkTarget): TrunkConnection {
    let socketError: RelayError | undefined;
    const session = http2.connect(`https://${egress.id}`, {
      settings: h2Settings(),
      createConnection: () => {
        const socket = tls.connect({
          ...tlsDefaults,
          host: egress.host,
          port: egress.port,
          servername: egress.id,
          cert: this.#options.cert,
          key: this.#options.key,
          ALPNProtocols: ['h2'],
          // The egress is authenticated by its pinned key below, not by any CA.
          rejectUnauthorized: false,
          ...(this.#options.localAddress ? { localAddress: this.#options.localAddress } : {}),
        });
        socket.once('secureConnect', () => {
          try {
            assertPinned(socket, egress.pins, `egress ${egress.id}`);
            tuneSocket(socket);
          } catch (err) {
            socketError = err as RelayError;
            socket.destroy(socketError);
          }
        });
        return socket;
      },
    });
    tuneH2Session(session);
    const ready = new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', (err) => reject(socketError ?? trunkError(err)));
      session.once('close', () => reject(socketError ?? new RelayError('egress-unavailable', `trunk to ${egress.id} closed`)));
    });
    ready.catch(() => {});
    session.on('error', () => {});
    const conn: TrunkConnection = { session, ready, streams: 0 };
    session.once('close', () => {
      const list = this.#connections.get(egress.id);
      if (list) list.splice(list.indexOf(conn) >>> 0, list.includes(conn) ? 1 : 0);
    });
    return conn;
  }
}

function trunkError(err: Error & { code?: string }): RelayError {
  if (err.code === 'ECONNREFUSED') return new RelayError('egress-unavailable', 'egress refused the trunk connection', { cause: err });
  if (err.code?.startsWith('ERR_SSL') || err.code?.startsWith('ERR_TLS')) {
    return new RelayError('tls-failed', 'trunk TLS handshake failed', { cause: err });
  }
  return new RelayError('egress-unavailable', 'trunk connection failed', { cause: err });
}

function onceResponse(stream: http2.ClientHttp2Stream): Promise<[http2.IncomingHttpHeaders]> {
  return new Promise((resolve, reject) => {
    stream.once('response', (headers) => resolve([headers]));
    stream.once('error', (err) => reject(new RelayError('egress-unavailable', 'trunk stream failed', { cause: err })));
    stream.once('close', () => reject(new RelayError('egress-unavailable', 'trunk stream closed before an answer')));
  });
}
