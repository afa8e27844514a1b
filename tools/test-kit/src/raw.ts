/** Raw peers for refusal tests: bytes straight to a relay, answers read back as text. */
import tls from 'node:tls';
import net from 'node:net';
import { once } from 'node:events';
import {
  decodeMethodSelection,
  decodeReply,
  encodeGreeting,
  encodeRequest,
} from '@splitrelay/socks5';

/** Sends `request` over TLS (ALPN http/1.1) and returns everything until the server closes or `ms` passes. */
export async function tlsExchange(
  options: { host: string; port: number; servername: string; ca: string; localAddress?: string },
  request: string | Buffer,
  ms = 5000,
): Promise<string> {
  const socket = tls.connect({
    host: options.host,
    port: options.port,
    servername: options.servername,
    ca: options.ca,
    ALPNProtocols: ['http/1.1'],
    ...(options.localAddress
      ? ({ localAddress: options.localAddress } as tls.ConnectionOptions)
      : {}),
  });
  await once(socket, 'secureConnect');
  return exchange(socket, request, ms);
}

export async function exchange(
  socket: net.Socket,
  request: string | Buffer,
  ms = 5000,
): Promise<string> {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => {});
  socket.write(request);
  const timer = setTimeout(() => socket.destroy(), ms);
  await once(socket, 'close');
  clearTimeout(timer);
  return text;
}

/** A SOCKS5 request through the client's proxy; resolves the reply (0 = success) and the socket, paused. */
export async function socksRequest(
  socksPort: number,
  command: 'connect' | 'udp-associate',
  host: string,
  port: number,
): Promise<{ reply: number; bound: { host: string; port: number }; socket: net.Socket }> {
  const socket = net.connect({ host: '127.0.0.1', port: socksPort });
  await once(socket, 'connect');
  let buf = Buffer.alloc(0);
  let wake: () => void = () => {};
  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk]);
    wake();
  };
  socket.on('data', onData);
  socket.on('error', () => {});
  const read = async <T>(
    decode: (b: Uint8Array) => { ok: true; value: T; bytesRead: number } | { ok: false },
  ): Promise<T> => {
    for (;;) {
      const r = decode(buf);
      if (r.ok) {
        buf = buf.subarray(r.bytesRead);
        return r.value;
      }
      if (socket.destroyed) throw new Error('SOCKS server closed the connection');
      await new Promise<void>((resolve) => {
        wake = resolve;
        socket.once('close', resolve);
      });
    }
  };
  socket.write(encodeGreeting({ methods: [0] }));
  await read(decodeMethodSelection);
  socket.write(encodeRequest({ command, host, port }));
  const reply = await read(decodeReply);
  socket.off('data', onData);
  // Paused, with whatever followed the reply put back: a flowing socket without a 'data'
  // listener would drop the target's first bytes before the caller attaches one.
  socket.pause();
  if (buf.length > 0) socket.unshift(buf);
  return { reply: reply.reply, bound: { host: reply.host, port: reply.port }, socket };
}

/** A SOCKS5 CONNECT through the client's proxy; resolves the reply code (0 = success). */
export async function socksConnect(
  socksPort: number,
  host: string,
  port: number,
): Promise<{ reply: number; socket: net.Socket }> {
  const { reply, socket } = await socksRequest(socksPort, 'connect', host, port);
  return { reply, socket };
}

/** 'ok' when the egress keeps a trunk connection past the handshake, 'refused' when it ends it. */
export function trunkVerdict(
  egress: { host: string; port: number },
  auth: { cert?: string; key?: string },
): Promise<'ok' | 'refused'> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: egress.host,
      port: egress.port,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      ...auth,
    });
    let timer: NodeJS.Timeout | undefined;
    const settle = (outcome: 'ok' | 'refused'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.once('error', () => settle('refused'));
    socket.once('close', () => settle('refused'));
    // TLS 1.3: the server judges the client certificate after the client's Finished, so
    // wait a moment after secureConnect for its verdict.
    socket.once('secureConnect', () => (timer = setTimeout(() => settle('ok'), 500)));
  });
}
