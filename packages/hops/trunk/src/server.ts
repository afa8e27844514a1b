/**
 * Egress side of the trunk: an HTTP/2 listener that admits only ingress relays whose client
 * certificate the egress operator knows. The TLS handshake itself refuses any other
 * certificate (it is not in `ca`); after it, the exact certificate is matched once more so
 * a known certificate that happens to be a CA cannot vouch for others.
 *
 * Each accepted stream is one client's inner session. A gate may cap how many of them one
 * admitted ingress holds at once: the count is keyed by the ingress's certificate name, the
 * only identity the trunk has (nothing about the client ever reaches it).
 */
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { RETRY_AFTER_SECONDS, RelayError } from '@splitrelay/errors';
import {
  h2SessionOptions,
  refuseOnStream,
  setUpH2Session,
  tlsDefaults,
  tuneSocket,
} from '@splitrelay/transport';

export interface KnownIngress {
  /** Operator-chosen name for logs (never a client's). */
  readonly name: string;
  readonly certPem: string;
}

export interface TrunkServerOptions {
  readonly cert: string;
  readonly key: string;
  readonly egressId: string;
  readonly knownIngresses: readonly KnownIngress[];
  readonly handshakeTimeoutMs: number;
  /** Proxy name written in Proxy-Status members. */
  readonly proxyName: string;
  /** One accepted client session: the stream carries the client's inner TLS. */
  readonly onSession: (stream: http2.ServerHttp2Stream, ingress: string) => void;
  /**
   * Called for every refusal; `ingress` is set once the peer was admitted (a stream refused
   * by the session gate, or a bad request), so limits can be reported per ingress.
   */
  readonly onRefusal?: (err: RelayError, ingress?: string) => void;
  /**
   * Caps concurrent sessions per admitted ingress (e.g. @splitrelay/abuse-limits'
   * ConcurrencyGate). Absent: no cap beyond h2's own.
   */
  readonly sessionGate?: SessionGate;
  /** Retry-After sent with a session refused by the gate; RETRY_AFTER_SECONDS by default. */
  readonly limitRetryAfterSeconds?: number;
  /**
   * A request stream that is not a CONNECT (the Oblivious HTTP gateway's POSTs), once its
   * `:authority` named this egress. Absent: such streams are refused with 405.
   */
  readonly onRequest?: (
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    ingress: string,
  ) => void;
}

/** Counts holders per key; `tryAcquire` gives an idempotent release, or undefined at the cap. */
export interface SessionGate {
  tryAcquire(key: string): (() => void) | undefined;
}

export interface TrunkServer {
  readonly server: http2.Http2SecureServer;
  /**
   * Replaces this egress's key (rotation) and/or the admitted ingresses (control plane).
   * New handshakes use the new state; established trunk connections are left alone.
   */
  update(changes: { cert?: string; key?: string; knownIngresses?: readonly KnownIngress[] }): void;
}

const fingerprints = (list: readonly KnownIngress[]): Map<string, string> =>
  new Map(list.map((k) => [new X509Certificate(k.certPem).fingerprint256, k.name] as const));

export function createTrunkServer(options: TrunkServerOptions): TrunkServer {
  let identity = { cert: options.cert, key: options.key };
  let admitted = [...options.knownIngresses];
  let known = fingerprints(admitted);
  const ingressOf = new WeakMap<http2.ServerHttp2Session, string>();

  const server = http2.createSecureServer({
    ...h2SessionOptions(),
    ...tlsDefaults,
    cert: options.cert,
    key: options.key,
    ca: options.knownIngresses.map((k) => k.certPem),
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: ['h2'],
    handshakeTimeout: options.handshakeTimeoutMs,
  });

  server.on('secureConnection', (socket: TLSSocket) => {
    const cert = socket.getPeerX509Certificate();
    const name = cert ? known.get(cert.fingerprint256) : undefined;
    if (name === undefined) {
      options.onRefusal?.(new RelayError('tls-failed', 'ingress certificate is not known'));
      socket.destroy();
      return;
    }
    tuneSocket(socket);
  });

  server.on('session', (session) => {
    setUpH2Session(session);
    const socket = session.socket as TLSSocket;
    const cert = socket.getPeerX509Certificate();
    const name = cert ? known.get(cert.fingerprint256) : undefined;
    if (name === undefined) {
      session.destroy();
      return;
    }
    ingressOf.set(session, name);
  });

  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on('error', () => {});
    const ingress = ingressOf.get(stream.session as http2.ServerHttp2Session);
    if (ingress === undefined) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const refuse = (err: RelayError): void => {
      options.onRefusal?.(err, ingress);
      refuseOnStream(stream, options.proxyName, err);
    };
    if (options.onRequest && headers[':method'] !== 'CONNECT') {
      if (headers[':authority'] !== options.egressId) {
        refuse(new RelayError('unknown-egress', 'this trunk serves another egress'));
        return;
      }
      options.onRequest(stream, headers, ingress);
      return;
    }
    if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== undefined) {
      refuse(new RelayError('method-not-allowed', 'the trunk carries only CONNECT'));
      return;
    }
    if (headers[':authority'] !== `${options.egressId}:443`) {
      refuse(new RelayError('unknown-egress', 'this trunk serves another egress'));
      return;
    }
    const release = options.sessionGate ? options.sessionGate.tryAcquire(ingress) : () => {};
    if (release === undefined) {
      // The details reach the client through its ingress: they name no ingress and no count.
      refuse(
        new RelayError('limit-reached', 'egress session limit for this ingress reached', {
          retryAfterSeconds: options.limitRetryAfterSeconds ?? RETRY_AFTER_SECONDS,
        }),
      );
      return;
    }
    // 'close' comes once whatever ends the stream (either side, the session, an error).
    stream.once('close', release);
    if (stream.destroyed) {
      release();
      return;
    }
    stream.respond({ ':status': 200 });
    options.onSession(stream, ingress);
  });

  server.on('tlsClientError', (err, socket) => {
    // Node leaves a socket whose handshake failed open unless told: an unknown client
    // certificate must end the connection, not just log.
    socket.destroy();
    options.onRefusal?.(new RelayError('tls-failed', 'trunk TLS handshake failed', { cause: err }));
  });
  // The TLS layer already refused; errors here must not take the process down.
  server.on('sessionError', () => {});
  return {
    server,
    update(changes) {
      identity = { cert: changes.cert ?? identity.cert, key: changes.key ?? identity.key };
      if (changes.knownIngresses) {
        admitted = [...changes.knownIngresses];
        known = fingerprints(admitted);
      }
      server.setSecureContext({ ...tlsDefaults, ...identity, ca: admitted.map((k) => k.certPem) });
    },
  };
}
