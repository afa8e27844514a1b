/**
 * Ingress side of the trunk: a pool of long-lived, mutually authenticated TLS HTTP/2
 * connections per egress. Each client session becomes one CONNECT stream on a trunk
 * connection. The request names only the egress: nothing about the client is added.
 */
import http2 from 'node:http2';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { RelayError, refusalFromResponse } from '@splitrelay/errors';
import {
  h2SessionOptions,
  setUpH2Session,
  tlsDefaults,
  tuneSocket,
  assertPinned,
  relayDeadline,
  withDeadline,
} from '@splitrelay/transport';

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
  /** Resolves once TLS is up, the egress key matched its pin, and h2 is connected. */
  readonly ready: Promise<http2.ClientHttp2Session>;
  session: http2.ClientHttp2Session | undefined;
  closed: boolean;
  /** Opened with a key since replaced: takes no new tunnels, closes when its last one ends. */
  retired: boolean;
  streams: number;
}

export class TrunkPool {
  readonly #options: TrunkPoolOptions;
  readonly #connections = new Map<string, TrunkConnection[]>();
  #identity: { cert: string; key: string };
  #closed = false;

  constructor(options: TrunkPoolOptions) {
    this.#options = options;
    this.#identity = { cert: options.cert, key: options.key };
  }

  /**
   * A new client certificate and key (rotation). New trunk connections present it; the ones
   * already open take no new tunnels and close once their last tunnel ends, so no client
   * session is cut and the old certificate can be retired at the egress once they are gone.
   */
  setIdentity(identity: { cert: string; key: string }): void {
    this.#identity = { ...identity };
    for (const list of this.#connections.values()) {
      for (const conn of list) {
        conn.retired = true;
        if (conn.streams === 0) conn.session?.close();
      }
    }
  }

  /** Opens one tunnel stream to `egress`; resolves once the egress accepted it. */
  async open(egress: TrunkTarget, signal?: AbortSignal): Promise<Duplex> {
    const stream = await this.request(
      egress,
      { ':method': 'CONNECT', ':authority': `${egress.id}:443` },
      signal,
    );
    const [headers] = await withDeadline(
      onceResponse(stream),
      relayDeadline(
        this.#options.connectTimeoutMs,
        signal,
        'egress-timeout',
        'egress did not answer the tunnel request',
      ),
    ).catch((err: unknown) => {
      stream.destroy();
      throw err;
    });
    const status = Number(headers[':status']);
    if (status !== 200) {
      stream.destroy();
      throw refusalFrom(status, headers);
    }
    return stream;
  }

  /**
   * Sends one request on a pooled trunk connection and returns its stream at once, before
   * any answer: the caller writes the body and reads the response (the Oblivious HTTP relay
   * sends each client request this way, on connections every client shares).
   */
  async request(
    egress: TrunkTarget,
    headers: http2.OutgoingHttpHeaders,
    signal?: AbortSignal,
  ): Promise<http2.ClientHttp2Stream> {
    if (this.#closed) throw new RelayError('internal', 'trunk pool is closed');
    const conn = this.#pick(egress);
    const session = await withDeadline(
      conn.ready,
      relayDeadline(
        this.#options.connectTimeoutMs,
        signal,
        'egress-timeout',
        'trunk handshake timed out',
      ),
    );
    conn.streams++;
    const stream = session.request(headers, {
      endStream: headers[':method'] === 'GET' || headers[':method'] === 'HEAD',
    });
    stream.once('close', () => {
      conn.streams--;
      if (conn.retired && conn.streams === 0) session.close();
    });
    stream.on('error', () => {});
    return stream;
  }

  /** Trunk connections currently open, per egress id (for health and tests). */
  connectionCounts(): Record<string, number> {
    return Object.fromEntries([...this.#connections].map(([id, list]) => [id, list.length]));
  }

  close(): void {
    this.#closed = true;
    for (const list of this.#connections.values()) for (const c of list) c.session?.destroy();
    this.#connections.clear();
  }

  #pick(egress: TrunkTarget): TrunkConnection {
    const list = this.#connections.get(egress.id) ?? [];
    this.#connections.set(egress.id, list);
    const maxStreams = this.#options.maxStreamsPerConnection ?? 1000;
    const live = list.filter((c) => !c.closed && !c.retired);
    const best = live.sort((a, b) => a.streams - b.streams)[0];
    if (
      best &&
      (best.streams < maxStreams || live.length >= (this.#options.maxConnectionsPerEgress ?? 4))
    ) {
      return best;
    }
    const conn = this.#connect(egress);
    list.push(conn);
    return conn;
  }

  #connect(egress: TrunkTarget): TrunkConnection {
    const conn: TrunkConnection = {
      ready: undefined as never,
      session: undefined,
      closed: false,
      retired: false,
      streams: 0,
    };
    const forget = (): void => {
      conn.closed = true;
      const list = this.#connections.get(egress.id);
      const at = list?.indexOf(conn) ?? -1;
      if (list && at >= 0) list.splice(at, 1);
    };
    (conn as { ready: Promise<http2.ClientHttp2Session> }).ready = (async () => {
      // TLS first, pin checked, and only then h2: a socket destroyed under a starting h2
      // session aborts the process (Node 26), so h2 only ever gets a verified socket.
      const socket = await this.#connectTls(egress);
      const session = http2.connect(`https://${egress.id}`, {
        ...h2SessionOptions(),
        createConnection: () => socket,
      });
      conn.session = session;
      setUpH2Session(session);
      session.once('close', forget);
      session.once('goaway', forget);
      await new Promise<void>((resolve, reject) => {
        session.once('connect', () => resolve());
        session.once('close', () =>
          reject(new RelayError('egress-unavailable', `trunk to ${egress.id} closed`)),
        );
      });
      return session;
    })();
    conn.ready.catch(forget);
    return conn;
  }

  #connectTls(egress: TrunkTarget): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        ...tlsDefaults,
        host: egress.host,
        port: egress.port,
        servername: egress.id,
        cert: this.#identity.cert,
        key: this.#identity.key,
        ALPNProtocols: ['h2'],
        // The egress is authenticated by its pinned key below, not by any CA.
        rejectUnauthorized: false,
        ...(this.#options.localAddress ? { localAddress: this.#options.localAddress } : {}),
      });
      socket.once('secureConnect', () => {
        try {
          assertPinned(socket, egress.pins, `egress ${egress.id}`);
          tuneSocket(socket);
          resolve(socket);
        } catch (err) {
          socket.destroy();
          reject(err as RelayError);
        }
      });
      socket.on('error', (err) => reject(trunkError(err)));
      socket.once('close', () =>
        reject(new RelayError('egress-unavailable', `trunk to ${egress.id} closed`)),
      );
    });
  }
}

function trunkError(err: Error & { code?: string }): RelayError {
  if (err.code === 'ECONNREFUSED')
    return new RelayError('egress-unavailable', 'egress refused the trunk connection', {
      cause: err,
    });
  if (err.code?.startsWith('ERR_SSL') || err.code?.startsWith('ERR_TLS')) {
    return new RelayError('tls-failed', 'trunk TLS handshake failed', { cause: err });
  }
  return new RelayError('egress-unavailable', 'trunk connection failed', { cause: err });
}

/**
 * The egress's refusal as a RelayError the ingress can pass on: its reason (Proxy-Status) and
 * when to retry (Retry-After, e.g. on a per-ingress session limit), so the client gets the
 * same status and advice rather than a bare failure.
 */
function refusalFrom(status: number, headers: http2.IncomingHttpHeaders): RelayError {
  // The ingress passes a refusal's headers on to its client: an egress must not be able to
  // hand clients a token challenge, which only the ingress may ask for.
  return refusalFromResponse(status, headers, { peer: 'egress', keepChallenge: false });
}

function onceResponse(stream: http2.ClientHttp2Stream): Promise<[http2.IncomingHttpHeaders]> {
  return new Promise((resolve, reject) => {
    stream.once('response', (headers) => resolve([headers]));
    stream.once('error', (err) =>
      reject(new RelayError('egress-unavailable', 'trunk stream failed', { cause: err })),
    );
    stream.once('close', () =>
      reject(new RelayError('egress-unavailable', 'trunk stream closed before an answer')),
    );
  });
}
