/**
 * The client's local SOCKS5 server (RFC 1928), no authentication, CONNECT and (given a UDP
 * connector) UDP ASSOCIATE.
 *
 * Lifecycle of one connection:
 *   accept ─▶ greeting ─▶ method selection ─▶ request ─┬─▶ connector(target) ─▶ reply ─▶ splice
 *                                                      └─▶ UDP ASSOCIATE: bind ─▶ reply ─▶ udp-association.ts
 *   └── handshake timer: runs from accept until the connector is called or the UDP reply sent ──┘
 *
 * Names arrive as ATYP DOMAINNAME and go to the connector as names: this process never
 * resolves anything, so the device's resolver (the access network's) never learns a target.
 */
import net from 'node:net';
import { toRelayError } from '@splitrelay/errors';
import { splice } from '@splitrelay/transport';
import {
  SocksMethod,
  SocksReply,
  decodeGreeting,
  decodeRequest,
  encodeMethodSelection,
  encodeReply,
  isSocks5Error,
  socksReplyFor,
  SOCKS_VERSION,
  type Socks5Request,
} from '@splitrelay/socks5';
import type { LocalProxyLogger, TunnelConnector, UdpConnector } from './types.ts';
import { startUdpAssociation, type UdpAssociateOptions } from './udp-association.ts';

export interface SocksServerOptions {
  readonly connect: TunnelConnector;
  /** Flows for UDP ASSOCIATE; without it that command is answered 0x07 (not supported). */
  readonly openUdp?: UdpConnector;
  /** Limits and counters for UDP associations (used only with `openUdp`). */
  readonly udp?: UdpAssociateOptions;
  /** From accept until the request is read; also bounds how long a refused client may linger. */
  readonly handshakeTimeoutMs?: number;
  readonly logger?: LocalProxyLogger;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export function createSocksServer(options: SocksServerOptions): net.Server {
  // allowHalfOpen: a client's FIN must reach the target as a FIN, not close our side too.
  return net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    handleSocksConnection(socket, options);
  });
}

function handleSocksConnection(socket: net.Socket, options: SocksServerOptions): void {
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const log = options.logger;
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());

  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined = setTimeout(() => {
    log?.debug('socks handshake timeout');
    socket.destroy();
  }, timeoutMs);
  socket.once('close', () => {
    clearTimeout(timer);
    abort.abort();
  });

  let phase: 'greeting' | 'request' = 'greeting';
  let buf: Buffer = Buffer.alloc(0);

  /** Sends a last message and lets the timer reap a client that never closes its side. */
  const finish = (last?: Uint8Array): void => {
    socket.removeListener('data', onData);
    socket.resume();
    if (timer === undefined) {
      timer = setTimeout(() => socket.destroy(), timeoutMs);
    }
    if (last) socket.end(last);
    else socket.end();
  };

  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    try {
      if (phase === 'greeting') {
        const g = decodeGreeting(buf);
        if (!g.ok) return;
        if (!g.value.methods.includes(SocksMethod.noAuth)) {
          log?.debug('socks refused', { reason: 'no acceptable method' });
          finish(encodeMethodSelection(SocksMethod.noAcceptable));
          return;
        }
        socket.write(encodeMethodSelection(SocksMethod.noAuth));
        phase = 'request';
        buf = buf.subarray(g.bytesRead);
      }
      const r = decodeRequest(buf);
      if (!r.ok) return;
      const early = buf.subarray(r.bytesRead);
      socket.removeListener('data', onData);
      socket.pause();
      void startTunnel(r.value, early);
    } catch (err) {
      // Decoders throw only Socks5Error; anything else is our bug, and still must not crash.
      const relayErr = isSocks5Error(err) ? err : toRelayError(err);
      log?.debug('socks malformed', { code: relayErr.code, reason: relayErr.details });
      if (phase === 'greeting') {
        // Something that is not SOCKS5 at all gets no SOCKS answer, only a close.
        finish(
          buf[0] === SOCKS_VERSION ? encodeMethodSelection(SocksMethod.noAcceptable) : undefined,
        );
      } else {
        finish(encodeReply(isSocks5Error(err) ? err.reply : SocksReply.generalFailure));
      }
    }
  };

  const associate = async (request: Socks5Request, openUdp: UdpConnector): Promise<void> => {
    try {
      await startUdpAssociation(socket, request, { ...options.udp, openUdp, logger: log });
    } catch (err) {
      log?.debug('socks udp bind failed', { code: toRelayError(err).code });
      if (!socket.destroyed) finish(encodeReply(SocksReply.generalFailure));
      return;
    }
    // The association lives as long as the control connection, with no deadline of its own.
    clearTimeout(timer);
    timer = undefined;
  };

  const startTunnel = async (request: Socks5Request, early: Buffer): Promise<void> => {
    if (request.command === 'udp-associate' && options.openUdp !== undefined) {
      // Anything after the request on the control connection is discarded, as RFC 1928 §7
      // gives it no meaning.
      await associate(request, options.openUdp);
      return;
    }
    if (request.command !== 'connect') {
      // BIND is not offered by a relay.
      finish(encodeReply(SocksReply.commandNotSupported));
      return;
    }
    if (request.port === 0) {
      // Port 0 is meaningful in a UDP ASSOCIATE, never as a CONNECT target (as in parseAuthority).
      finish(encodeReply(SocksReply.generalFailure));
      return;
    }
    // The connector has its own timeouts; from here the client waits for the relay, not us.
    clearTimeout(timer);
    timer = undefined;
    let tunnel;
    try {
      tunnel = await options.connect({ host: request.host, port: request.port }, abort.signal);
    } catch (err) {
      const relayErr = toRelayError(err);
      // RFC 1928 replies have no Retry-After: the advice is only logged, and the reply code
      // (e.g. 0x01 for a limit) tells the application no more than that the connect failed.
      log?.debug('socks connect refused', {
        code: relayErr.code,
        ...(relayErr.retryAfterSeconds === undefined
          ? {}
          : { retryAfterSeconds: relayErr.retryAfterSeconds }),
      });
      if (!socket.destroyed) finish(encodeReply(socksReplyFor(relayErr.code)));
      return;
    }
    if (socket.destroyed) {
      tunnel.destroy();
      return;
    }
    socket.write(encodeReply(SocksReply.succeeded));
    if (early.length > 0) tunnel.write(early);
    splice(socket, tunnel);
  };

  socket.on('data', onData);
}
