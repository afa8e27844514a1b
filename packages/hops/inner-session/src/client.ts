/**
 * Client side of the inner session: TLS to the egress (authenticated by the key pinned in
 * the signed directory) on top of whatever carries it (the outer hop), then HTTP/2, with
 * one CONNECT stream per flow. The ingress carries these bytes and can read none of them.
 */
import http2 from 'node:http2';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { formatAuthority } from '@splitrelay/authority';
import { formatUdpPath } from '@splitrelay/connect-udp';
import { RelayError, refusalFromResponse } from '@splitrelay/errors';
import {
  assertPinned,
  relayDeadline,
  withDeadline,
  h2SessionOptions,
  setUpH2Session,
  tlsDefaults,
} from '@splitrelay/transport';
import { DatagramStream } from './datagram-stream.ts';

export interface InnerSessionOptions {
  readonly egressId: string;
  readonly pins: readonly string[];
  readonly handshakeTimeoutMs: number;
  /** How long to wait for the egress to answer a flow's CONNECT. */
  readonly flowTimeoutMs: number;
  /**
   * Header fields sent with every request of this session (e.g. the geo hint, which only the
   * egress may see: it travels inside this TLS session, never on the outer hop). The egress
   * reads them once, from the session's first request, so every request carries the same.
   */
  readonly sessionHeaders?: Readonly<Record<string, string>>;
}

/** Lower-case tokens only, and none the h2 layer or the CONNECT itself owns. */
const FIELD_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const OWNED_FIELDS = new Set([
  'connection',
  'host',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'capsule-protocol',
]);

function checkSessionHeaders(
  fields: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> {
  if (fields === undefined) return {};
  for (const [name, value] of Object.entries(fields)) {
    if (!FIELD_NAME.test(name) || OWNED_FIELDS.has(name))
      throw new TypeError(`sessionHeaders: ${JSON.stringify(name)} cannot be sent on a flow`);
    if (typeof value !== 'string' || /[\0\r\n]/.test(value))
      throw new TypeError(`sessionHeaders: the value of ${name} must be one line of text`);
  }
  return Object.freeze({ ...fields });
}

export interface InnerSession {
  readonly egressId: string;
  /** Opens one flow; rejects with the egress's reason (status and Proxy-Status) as a RelayError. */
  openFlow(target: { host: string; port: number }, signal?: AbortSignal): Promise<Duplex>;
  /** Opens one UDP flow (CONNECT-UDP, RFC 9298); the name is resolved by the egress. */
  openUdp(target: { host: string; port: number }, signal?: AbortSignal): Promise<DatagramStream>;
  readonly alive: boolean;
  readonly activeFlows: number;
  readonly closed: Promise<void>;
  close(): void;
}

export async function openInnerSession(
  carrier: Duplex,
  options: InnerSessionOptions,
  signal?: AbortSignal,
): Promise<InnerSession> {
  const sessionHeaders = checkSessionHeaders(options.sessionHeaders);
  const socket = tls.connect({
    ...tlsDefaults,
    socket: carrier,
    // The SNI names the egress, which the ingress already knows from the CONNECT line.
    servername: options.egressId,
    ALPNProtocols: ['h2'],
    rejectUnauthorized: false,
  });
  socket.on('error', () => {});
  const secured = new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => {
      try {
        assertPinned(socket, options.pins, `egress ${options.egressId}`);
        resolve();
      } catch (err) {
        socket.destroy();
        reject(err);
      }
    });
    socket.once('error', (err) =>
      reject(new RelayError('tls-failed', 'inner TLS handshake failed', { cause: err })),
    );
    socket.once('close', () =>
      reject(new RelayError('egress-unavailable', 'inner session closed during the handshake')),
    );
  });
  try {
    await withDeadline(
      secured,
      relayDeadline(
        options.handshakeTimeoutMs,
        signal,
        'egress-timeout',
        'inner TLS handshake timed out',
      ),
    );
  } catch (err) {
    socket.destroy();
    carrier.destroy();
    throw err;
  }

  // When the session dies, its open flows end with a reason rather than a bare reset. The
  // carrier's 'close' listener was added before h2's own, so it runs while they are open.
  const streams = new Set<http2.ClientHttp2Stream>();
  socket.once('close', () => {
    for (const stream of streams) {
      if (!stream.destroyed)
        stream.destroy(
          new RelayError('egress-unavailable', `inner session to ${options.egressId} ended`),
        );
    }
  });
  const session = http2.connect(`https://${options.egressId}`, {
    ...h2SessionOptions(),
    createConnection: () => socket,
  });
  setUpH2Session(session);
  const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
  // Extended CONNECT may be sent only once the egress's SETTINGS allowed it (RFC 8441 §3).
  const remoteSettings = new Promise<void>((resolve) =>
    session.once('remoteSettings', () => resolve()),
  );
  remoteSettings.catch(() => {});
  let activeFlows = 0;

  /** One stream per flow; resolves on 200, else rejects with the egress's reason. */
  async function request(
    headers: http2.OutgoingHttpHeaders,
    flowSignal?: AbortSignal,
  ): Promise<http2.ClientHttp2Stream> {
    try {
      return await requestOnce(headers, flowSignal);
    } catch (err) {
      // REFUSED_STREAM guarantees the egress did nothing with it (RFC 9113 §8.7): retry once.
      const rstCode = (err as { cause?: { rstCode?: number } }).cause?.rstCode;
      if (err instanceof RelayError && rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) {
        return requestOnce(headers, flowSignal);
      }
      throw err;
    }
  }

  async function requestOnce(
    headers: http2.OutgoingHttpHeaders,
    flowSignal?: AbortSignal,
  ): Promise<http2.ClientHttp2Stream> {
    if (session.closed || session.destroyed)
      throw new RelayError('egress-unavailable', 'inner session is closed');
    const stream = session.request(headers);
    activeFlows++;
    streams.add(stream);
    stream.once('close', () => {
      activeFlows--;
      streams.delete(stream);
    });
    stream.on('error', () => {});
    const answered = new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('close', () =>
        reject(
          new RelayError(
            'connection-terminated',
            `flow closed before an answer (h2 error ${stream.rstCode})`,
            { cause: { rstCode: stream.rstCode } },
          ),
        ),
      );
    });
    try {
      const response = await withDeadline(
        answered,
        relayDeadline(
          options.flowTimeoutMs,
          flowSignal,
          'connection-timeout',
          'egress did not answer in time',
        ),
      );
      const status = Number(response[':status']);
      if (status === 200) return stream;
      // With its Retry-After: the egress's advice on a flow is for the client to follow.
      throw refusalFromResponse(status, response, { peer: 'egress' });
    } catch (err) {
      stream.destroy();
      throw err;
    }
  }

  return {
    egressId: options.egressId,
    get alive() {
      return !session.closed && !session.destroyed;
    },
    get activeFlows() {
      return activeFlows;
    },
    closed,
    close: () => session.destroy(),
    async openFlow(target, flowSignal) {
      return request(
        { ...sessionHeaders, ':method': 'CONNECT', ':authority': formatAuthority(target) },
        flowSignal,
      );
    },
    async openUdp(target, flowSignal) {
      await withDeadline(
        remoteSettings,
        relayDeadline(
          options.handshakeTimeoutMs,
          flowSignal,
          'egress-timeout',
          'egress sent no settings',
        ),
      );
      if (!session.remoteSettings.enableConnectProtocol) {
        throw new RelayError(
          'method-not-allowed',
          'egress does not offer extended CONNECT (no UDP)',
        );
      }
      const stream = await request(
        {
          ...sessionHeaders,
          ':method': 'CONNECT',
          ':protocol': 'connect-udp',
          ':scheme': 'https',
          ':authority': `${options.egressId}:443`,
          ':path': formatUdpPath(target),
          'capsule-protocol': '?1',
        },
        flowSignal,
      );
      return new DatagramStream(stream);
    },
  };
}
