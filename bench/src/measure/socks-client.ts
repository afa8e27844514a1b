/**
 * A SOCKS5 client built on @splitrelay/socks5's codecs (CONNECT, and UDP ASSOCIATE for the UDP
 * figures). It drives SplitRelay's and ssh's SOCKS ports the same way: greeting, wait for the
 * method, request, wait for the reply (no optimistic pipelining, which not every server accepts).
 */
import net from 'node:net';
import {
  SocksMethod,
  decodeMethodSelection,
  decodeReply,
  encodeGreeting,
  encodeRequest,
  type DecodeResult,
  type Socks5Command,
  type Socks5Reply,
} from '@splitrelay/socks5';

export interface SocksProxy {
  readonly host: string;
  readonly port: number;
}

/** Resolves with the connected socket, positioned after the reply. */
export async function socksConnect(
  proxy: SocksProxy,
  target: { host: string; port: number },
  timeoutMs = 15_000,
): Promise<net.Socket> {
  return (await socksRequest(proxy, 'connect', target, timeoutMs)).socket;
}

/** One SOCKS5 request; resolves with the control socket (after the reply) and the reply. */
export function socksRequest(
  proxy: SocksProxy,
  command: Socks5Command,
  target: { host: string; port: number },
  timeoutMs = 15_000,
): Promise<{ socket: net.Socket; reply: Socks5Reply }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    socket.setNoDelay(true);
    let buffered: Buffer = Buffer.alloc(0);
    let phase: 'method' | 'reply' = 'method';
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`SOCKS handshake timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const take = <T>(result: DecodeResult<T>): T | undefined => {
      if (!result.ok) return undefined;
      buffered = buffered.subarray(result.bytesRead);
      return result.value;
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      try {
        if (phase === 'method') {
          const selection = take(decodeMethodSelection(buffered));
          if (!selection) return;
          if (selection.method !== SocksMethod.noAuth)
            return fail(new Error(`SOCKS method ${selection.method} refused`));
          phase = 'reply';
          socket.write(encodeRequest({ command, ...target }));
        }
        const reply = take(decodeReply(buffered));
        if (!reply) return;
        if (reply.reply !== 0) return fail(new Error(`SOCKS reply ${reply.reply}`));
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', fail);
        socket.off('close', onClose);
        socket.pause();
        if (buffered.length > 0) socket.unshift(buffered);
        resolve({ socket, reply });
      } catch (err) {
        fail(err as Error);
      }
    };
    const onClose = (): void =>
      fail(new Error('SOCKS proxy closed the connection during the handshake'));
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('close', onClose);
    socket.once('connect', () => socket.write(encodeGreeting({ methods: [SocksMethod.noAuth] })));
  });
}
