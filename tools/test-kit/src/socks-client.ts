/**
 * The one SOCKS5 client of the tests and the bench, built on @splitrelay/socks5's codecs
 * (RFC 1928): greeting, wait for the method, request, wait for the reply. No optimistic
 * pipelining, which not every server accepts (ssh -D does not), so the client app and
 * `ssh -D` are driven alike.
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
} from '@splitrelay/socks5';

export interface SocksProxy {
  readonly host: string;
  readonly port: number;
}

export interface SocksTargetAddress {
  readonly host: string;
  readonly port: number;
}

export interface SocksAnswer {
  /** REP (RFC 1928 §6): 0x00 succeeded, else the failure the proxy reported. */
  readonly reply: number;
  /** BND.ADDR and BND.PORT: for UDP ASSOCIATE, where to send the datagrams. */
  readonly bound: SocksTargetAddress;
  /**
   * The control connection, paused, positioned after the reply (bytes that came with it are
   * put back). It keeps an empty 'error' listener: a refusal test that only reads `reply`
   * need not handle the reset that may follow.
   */
  readonly socket: net.Socket;
}

export type SocksClientFailure = 'no-acceptable-method' | 'refused' | 'closed' | 'timeout';

/** The handshake did not give a usable connection; `reply` is set for `refused`. */
export class SocksClientError extends Error {
  override readonly name = 'SocksClientError';
  readonly failure: SocksClientFailure;
  readonly reply: number | undefined;
  constructor(failure: SocksClientFailure, message: string, reply?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.failure = failure;
    this.reply = reply;
  }
}

export interface SocksRequestOptions {
  /** Deadline of the whole handshake, in ms (15 s by default). */
  readonly timeoutMs?: number;
}

/** One SOCKS5 request; resolves whatever the proxy replied, success or refusal. */
export function socksRequest(
  proxy: SocksProxy,
  command: Socks5Command,
  target: SocksTargetAddress,
  options: SocksRequestOptions = {},
): Promise<SocksAnswer> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    socket.setNoDelay(true);
    let buffered: Buffer = Buffer.alloc(0);
    let phase: 'method' | 'reply' = 'method';
    const fail = (err: SocksClientError): void => {
      clearTimeout(timer);
      socket.on('error', () => {});
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(new SocksClientError('timeout', `SOCKS handshake timed out after ${timeoutMs} ms`)),
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
          if (selection.method !== SocksMethod.noAuth) {
            fail(
              new SocksClientError(
                'no-acceptable-method',
                `the SOCKS proxy chose method ${selection.method}, not "no authentication"`,
              ),
            );
            return;
          }
          phase = 'reply';
          socket.write(encodeRequest({ command, ...target }));
        }
        const reply = take(decodeReply(buffered));
        if (!reply) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.off('error', onError);
        socket.on('error', () => {});
        // Paused, with whatever followed the reply put back: a flowing socket without a 'data'
        // listener would drop the target's first bytes before the caller attaches one.
        socket.pause();
        if (buffered.length > 0) socket.unshift(buffered);
        resolve({ reply: reply.reply, bound: { host: reply.host, port: reply.port }, socket });
      } catch (err) {
        fail(
          new SocksClientError('closed', 'the SOCKS proxy sent an invalid message', undefined, err),
        );
      }
    };
    const onClose = (): void =>
      fail(
        new SocksClientError(
          'closed',
          'the SOCKS proxy closed the connection during the handshake',
        ),
      );
    const onError = (err: Error): void =>
      fail(
        new SocksClientError(
          'closed',
          `SOCKS proxy connection failed: ${err.message}`,
          undefined,
          err,
        ),
      );
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('connect', () => socket.write(encodeGreeting({ methods: [SocksMethod.noAuth] })));
  });
}

/** A SOCKS5 CONNECT that must succeed: the connected socket, or a `refused` error with REP. */
export async function socksConnect(
  proxy: SocksProxy,
  target: SocksTargetAddress,
  options: SocksRequestOptions = {},
): Promise<net.Socket> {
  const answer = await socksRequest(proxy, 'connect', target, options);
  if (answer.reply !== 0) {
    answer.socket.destroy();
    throw new SocksClientError(
      'refused',
      `SOCKS reply ${answer.reply} for ${target.host}:${target.port}`,
      answer.reply,
    );
  }
  return answer.socket;
}
