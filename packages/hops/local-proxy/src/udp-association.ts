/**
 * SOCKS5 UDP ASSOCIATE (RFC 1928 §7) for one control connection.
 *
 *   control TCP: request ─▶ bind UDP on the control's local address, port 0 ─▶ reply BND ─▶ (idle)
 *   client ─▶ UDP: source check ─▶ decodeUdpHeader ─▶ FRAG 0 ─▶ flow table ─▶ UdpFlow.send
 *   UdpFlow 'datagram' ─▶ header (the target as the client named it) + payload ─▶ client
 *   control ends or closes ─▶ UDP socket and every flow close; the UDP socket failing closes the control
 *
 * The socket's buffers are sized for bursts (socketBufferBytes); what still overflows them is
 * counted by the kernel, and read from there (kernelDrops) beside the counters below.
 *
 * The client is the control connection's peer address: RFC 1928 lets a client name the address
 * it will send from, but on a shared host any local process could name ours, so only the port
 * is taken from the request. With no port named, the first well-formed datagram fixes it, so
 * another local process cannot inject into (or read replies of) an association in use.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { toRelayError } from '@splitrelay/errors';
import {
  SocksReply,
  decodeUdpHeader,
  encodeReply,
  isSocks5Error,
  type Socks5Request,
} from '@splitrelay/socks5';
import type { LocalProxyLogger, UdpConnector } from './types.ts';
import { createUdpCounters, type UdpCounters } from './udp-counters.ts';
import { UdpFlowTable, type UdpFlowLimits } from './udp-flows.ts';
import type { UdpKernelDrops } from './udp-kernel-drops.ts';

export interface UdpAssociateOptions {
  /** Targets (flows) per association; datagrams to further targets are dropped. Default 256. */
  readonly maxFlows?: number;
  /** A flow with no datagram in either direction for this long is closed, ms. Default 60 000. */
  readonly flowIdleTimeoutMs?: number;
  /** After a refused open, that target's datagrams are dropped this long, ms. Default 5 000. */
  readonly failureHoldMs?: number;
  /** Datagrams held per target while its flow opens. Default 64. */
  readonly maxQueuedDatagrams?: number;
  /** Payload bytes held per target while its flow opens. Default 1 MiB. */
  readonly maxQueuedBytes?: number;
  /** Incremented by every association of the server; read them to log aggregates. */
  readonly counters?: UdpCounters;
  /**
   * Receive and send buffer asked of the kernel for each association socket, bytes. Default
   * 4 MiB: a burst must fit while the event loop is busy (the kernel's default, about 200 KiB,
   * holds a few dozen datagrams); the kernel caps it at net.core.rmem_max / wmem_max.
   */
  readonly socketBufferBytes?: number;
  /** Counts what the kernel drops at the association sockets (udp-kernel-drops.ts). */
  readonly kernelDrops?: UdpKernelDrops;
}

export interface UdpAssociationContext extends UdpAssociateOptions {
  readonly openUdp: UdpConnector;
  readonly logger?: LocalProxyLogger;
}

/**
 * Binds the association's UDP socket and replies success on `control`, or throws (the caller
 * replies failure). Resolves once the association is running; it then lives as long as
 * `control` does.
 */
export async function startUdpAssociation(
  control: net.Socket,
  request: Socks5Request,
  context: UdpAssociationContext,
): Promise<void> {
  const local = unmapped(control.localAddress);
  const peer = unmapped(control.remoteAddress);
  if (local === undefined || peer === undefined || control.destroyed) return;
  const buffer = context.socketBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES;
  const socket = dgram.createSocket({
    type: net.isIPv6(local) ? 'udp6' : 'udp4',
    recvBufferSize: buffer,
    sendBufferSize: buffer,
  });
  await bind(socket, local);
  if (control.destroyed) {
    socket.close();
    return;
  }
  context.kernelDrops?.add(socket);
  const association = new UdpAssociation(socket, peer, request.port, context);
  const counters = context.counters;
  if (counters) {
    counters.associations++;
    counters.recvBufferBytes = socket.getRecvBufferSize();
  }
  control.write(encodeReply(SocksReply.succeeded, { host: local, port: socket.address().port }));
  // The control connection carries nothing more; what a client sends on it is discarded.
  control.resume();
  // A client's FIN ends the association as a close does: RFC 1928 §7 ties it to the connection.
  control.once('end', () => association.close());
  control.once('close', () => association.close());
  association.onClose = () => control.destroy();
}

const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

const DEFAULT_LIMITS: UdpFlowLimits = {
  maxFlows: 256,
  idleTimeoutMs: 60_000,
  failureHoldMs: 5_000,
  maxQueuedDatagrams: 64,
  maxQueuedBytes: 1024 * 1024,
};

class UdpAssociation {
  onClose: (() => void) | undefined;
  readonly #socket: dgram.Socket;
  readonly #clientAddress: string;
  #clientPort: number;
  readonly #counters: UdpCounters;
  readonly #logger: LocalProxyLogger | undefined;
  readonly #abort = new AbortController();
  readonly #flows: UdpFlowTable;
  readonly #kernelDrops: UdpKernelDrops | undefined;
  #closed = false;

  constructor(
    socket: dgram.Socket,
    clientAddress: string,
    clientPort: number,
    context: UdpAssociationContext,
  ) {
    this.#socket = socket;
    this.#clientAddress = clientAddress;
    this.#clientPort = clientPort;
    this.#counters = context.counters ?? createUdpCounters();
    this.#logger = context.logger;
    this.#kernelDrops = context.kernelDrops;
    this.#flows = new UdpFlowTable({
      openUdp: context.openUdp,
      limits: {
        maxFlows: context.maxFlows ?? DEFAULT_LIMITS.maxFlows,
        idleTimeoutMs: context.flowIdleTimeoutMs ?? DEFAULT_LIMITS.idleTimeoutMs,
        failureHoldMs: context.failureHoldMs ?? DEFAULT_LIMITS.failureHoldMs,
        maxQueuedDatagrams: context.maxQueuedDatagrams ?? DEFAULT_LIMITS.maxQueuedDatagrams,
        maxQueuedBytes: context.maxQueuedBytes ?? DEFAULT_LIMITS.maxQueuedBytes,
      },
      counters: this.#counters,
      signal: this.#abort.signal,
      logger: context.logger,
      reply: (header, payload) => this.#reply(header, payload),
    });
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    socket.on('error', (err) => {
      this.#logger?.debug('socks udp socket error', { code: toRelayError(err).code });
      this.close();
    });
    socket.once('close', () => this.close());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#flows.close();
    // Its row in the kernel's table goes with it: the last count first.
    this.#kernelDrops?.release(this.#socket);
    try {
      this.#socket.close();
    } catch {
      // Already closed: the socket's own close is what brought us here.
    }
    this.onClose?.();
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const counters = this.#counters;
    if (
      unmapped(rinfo.address) !== this.#clientAddress ||
      (this.#clientPort !== 0 && rinfo.port !== this.#clientPort)
    ) {
      counters.droppedForeignSource++;
      return;
    }
    try {
      const decoded = decodeUdpHeader(msg);
      if (!decoded.ok || decoded.value.port === 0) {
        counters.droppedMalformed++;
        return;
      }
      const { frag, host, port, data } = decoded.value;
      if (frag !== 0) {
        counters.droppedFragment++;
        return;
      }
      this.#clientPort = rinfo.port;
      // The reply header repeats the client's own ATYP and address bytes, so a name comes back
      // as the name it sent, not as whatever the relays resolved it to.
      const header = (): Uint8Array => Uint8Array.from(msg.subarray(0, msg.length - data.length));
      this.#flows.send({ host, port }, header, data);
    } catch (err) {
      // decodeUdpHeader throws only Socks5Error; anything else is our bug, and still must not crash.
      counters.droppedMalformed++;
      if (!isSocks5Error(err)) {
        this.#logger?.warn('socks udp datagram failed', { code: toRelayError(err).code });
      }
    }
  }

  #reply(header: Uint8Array, payload: Buffer): void {
    if (this.#closed || this.#clientPort === 0) return;
    try {
      this.#socket.send([header, payload], this.#clientPort, this.#clientAddress, (err) => {
        if (err) this.#counters.sendErrors++;
      });
      this.#counters.datagramsDown++;
    } catch {
      this.#counters.sendErrors++;
    }
  }
}

function bind(socket: dgram.Socket, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ port: 0, address, exclusive: true }, () => {
      socket.removeListener('error', onError);
      resolve();
    });
  });
}

/** An IPv4 peer of a dual-stack listener shows as ::ffff:a.b.c.d; the rest of us use a.b.c.d. */
function unmapped(address: string | undefined): string | undefined {
  if (address?.startsWith('::ffff:') && net.isIPv4(address.slice(7))) return address.slice(7);
  return address;
}
