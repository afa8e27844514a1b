/**
 * Raw peers for refusal tests: bytes straight to a relay, answers read back as text (the
 * SOCKS5 client is socks-client.ts).
 */
import tls from 'node:tls';
import net from 'node:net';
import { once } from 'node:events';

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
