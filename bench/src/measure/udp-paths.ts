/**
 * A UDP path from the measuring client to the target's echo port, one per way of getting
 * there: a plain socket (direct), a SOCKS5 UDP ASSOCIATE (the client app), or an SDK
 * DatagramStream (CONNECT-UDP in this process). The measures see only send and receive.
 */
import dgram from 'node:dgram';
import type net from 'node:net';
import { decodeUdpHeader, encodeUdpHeader } from '@splitrelay/socks5';
import { socksRequest, type SocksProxy } from '@splitrelay/test-kit/socks-client';

export interface UdpPath {
  send(payload: Buffer): void;
  /** One listener; each echoed payload, without any framing. */
  onDatagram(listener: (payload: Buffer) => void): void;
  close(): Promise<void>;
}

/** What the SDK's openUdp returns, as far as the bench uses it. */
export interface DatagramLike {
  send(payload: Uint8Array): void;
  on(event: 'datagram', listener: (payload: Buffer) => void): unknown;
  close(): void;
}

// The throughput window is 64 × 1,200 bytes: the default receive buffer holds it, but a bigger
// one keeps a scheduling hiccup of the measuring process from counting as relay loss.
const RECV_BUFFER = 4 * 1024 * 1024;

function bindUdp(address: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: RECV_BUFFER });
    socket.once('error', reject);
    socket.bind({ address, port: 0 }, () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

const closeSocket = (socket: dgram.Socket): Promise<void> =>
  new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });

/** Straight to the target from the client's address. */
export async function directUdp(
  from: string,
  target: { host: string; port: number },
): Promise<UdpPath> {
  const socket = await bindUdp(from);
  return {
    send: (payload) => socket.send(payload, target.port, target.host),
    onDatagram: (listener) => void socket.on('message', (msg) => listener(msg)),
    close: () => closeSocket(socket),
  };
}

/**
 * RFC 1928 §7: a control connection asks for an association, each datagram then goes to the
 * relay's UDP port behind a SOCKS UDP header naming the target. The UDP socket is bound on the
 * control connection's own local address, which is where the client app expects datagrams from.
 */
export async function socksUdp(
  proxy: SocksProxy,
  target: { host: string; port: number },
): Promise<UdpPath> {
  const socket = await bindUdp(proxy.host);
  let control: net.Socket;
  let relay: { host: string; port: number };
  try {
    const r = await socksRequest(proxy, 'udp-associate', {
      host: proxy.host,
      port: socket.address().port,
    });
    control = r.socket;
    if (r.reply !== 0) {
      control.destroy();
      throw new Error(`SOCKS reply ${r.reply} to UDP ASSOCIATE`);
    }
    relay = { host: r.bound.host === '0.0.0.0' ? proxy.host : r.bound.host, port: r.bound.port };
  } catch (err) {
    await closeSocket(socket);
    throw err;
  }
  control.on('error', () => {});
  control.resume();
  const header = encodeUdpHeader(target);
  return {
    send: (payload) => socket.send([header, payload], relay.port, relay.host),
    onDatagram: (listener) =>
      void socket.on('message', (msg) => {
        try {
          const decoded = decodeUdpHeader(msg);
          if (decoded.ok) listener(Buffer.from(decoded.value.data));
        } catch {
          // Not a SOCKS datagram: not an echo either.
        }
      }),
    close: async () => {
      control.destroy();
      await closeSocket(socket);
    },
  };
}

/** A CONNECT-UDP flow opened by the SDK in this process. */
export function datagramUdp(stream: DatagramLike): UdpPath {
  return {
    send: (payload) => stream.send(payload),
    onDatagram: (listener) => void stream.on('datagram', listener),
    close: async () => stream.close(),
  };
}
