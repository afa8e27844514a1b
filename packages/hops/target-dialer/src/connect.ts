/**
 * Opening the TCP connection: Happy Eyeballs-lite (RFC 8305 §5). Addresses are tried in
 * interleaved family order; each new attempt starts when the previous one fails or after
 * `attemptDelayMs` without an answer, the first to connect wins and the rest are destroyed.
 * `timeoutMs` bounds the whole phase, not each attempt, so a target with many blackholed
 * addresses still answers within it.
 */
import net from 'node:net';
import { RelayError } from '@splitrelay/errors';
import { HIGH_WATER_MARK_BYTES } from '@splitrelay/transport';
import type { PermittedAddress } from '@splitrelay/target-policy';
import { formatAuthority } from '@splitrelay/authority';

export type Connect = (options: net.TcpNetConnectOpts) => net.Socket;

export interface ConnectOptions {
  readonly port: number;
  readonly timeoutMs: number;
  readonly attemptDelayMs: number;
  /** The source address to bind for an attempt to this family (undefined: the kernel's choice). */
  readonly localAddressFor: (family: 4 | 6) => string | undefined;
  readonly connect: Connect;
  readonly signal: AbortSignal | undefined;
}

/** RFC 8305 §4: alternate families, starting with the resolver's first choice. */
export function interleave(addresses: readonly PermittedAddress[]): PermittedAddress[] {
  const first = addresses[0]?.family;
  const a = addresses.filter((x) => x.family === first);
  const b = addresses.filter((x) => x.family !== first);
  const out: PermittedAddress[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== undefined) out.push(a[i] as PermittedAddress);
    if (b[i] !== undefined) out.push(b[i] as PermittedAddress);
  }
  return out;
}

const unreachableCodes = new Set([
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

export function connectError(err: unknown, where: string): RelayError {
  if (err instanceof RelayError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const cause = { cause: err };
  if (code === 'ECONNREFUSED') {
    return new RelayError('connection-refused', `${where} refused the connection`, cause);
  }
  if (code === 'ETIMEDOUT') {
    return new RelayError('connection-timeout', `${where} did not answer`, cause);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new RelayError('connection-terminated', `${where} reset the connection`, cause);
  }
  if (typeof code === 'string' && unreachableCodes.has(code)) {
    return new RelayError('destination-unreachable', `${where} is unreachable (${code})`, cause);
  }
  // EACCES/EPERM (a local firewall) and anything unforeseen: the target cannot be reached.
  return new RelayError('destination-unreachable', `${where} could not be reached`, cause);
}

/** Never called for IP hosts; present so a name can never slip past the policy into net's own lookup. */
const refuseLookup: net.LookupFunction = (hostname, _options, callback) => {
  const err = Object.assign(new Error(`refusing to resolve ${hostname} inside connect`), {
    code: 'EINVAL',
  });
  callback(err, '', 4);
};

export function connectFirst(
  addresses: readonly PermittedAddress[],
  options: ConnectOptions,
): Promise<net.Socket> {
  const { port, timeoutMs, attemptDelayMs, localAddressFor, connect, signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const queue = interleave(addresses);
  if (queue.length === 0)
    return Promise.reject(new RelayError('destination-unreachable', 'no address to connect to'));
  return new Promise<net.Socket>((resolve, reject) => {
    /** Attempts in flight, each with the address it was opened to (for error details). */
    const pending = new Map<net.Socket, string>();
    let next = 0;
    let lastError: RelayError | undefined;
    let settled = false;
    let delayTimer: NodeJS.Timeout | undefined;

    const finish = (winner: net.Socket | undefined, err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(delayTimer);
      signal?.removeEventListener('abort', onAbort);
      for (const s of pending.keys()) {
        s.removeListener('connect', onConnect);
        s.removeListener('error', onError);
        if (s !== winner) {
          // A loser may still report an error while closing: keep it from being uncaught.
          s.on('error', () => {});
          s.destroy();
        }
      }
      pending.clear();
      if (winner !== undefined) resolve(winner);
      else reject(err);
    };

    const failed = (err: RelayError): void => {
      lastError = err;
      if (pending.size > 0) return;
      if (next < queue.length) startNext();
      else finish(undefined, err);
    };

    function onConnect(this: net.Socket): void {
      finish(this, undefined);
    }
    function onError(this: net.Socket, err: Error): void {
      const address = pending.get(this) ?? '?';
      pending.delete(this);
      this.destroy();
      failed(connectError(err, formatAuthority({ host: address, port })));
    }

    const startNext = (): void => {
      clearTimeout(delayTimer);
      const target = queue[next++] as PermittedAddress;
      if (next < queue.length) delayTimer = setTimeout(startNext, attemptDelayMs);
      const localAddress = localAddressFor(target.family);
      // highWaterMark reaches the socket's Duplex at runtime; @types/node does not list it here.
      const socketOptions: net.TcpNetConnectOpts & { highWaterMark: number } = {
        host: target.address,
        port,
        family: target.family,
        ...(localAddress !== undefined ? { localAddress } : {}),
        allowHalfOpen: true,
        noDelay: true,
        highWaterMark: HIGH_WATER_MARK_BYTES,
        lookup: refuseLookup,
      };
      let socket: net.Socket;
      try {
        socket = connect(socketOptions);
      } catch (err) {
        failed(connectError(err, formatAuthority({ host: target.address, port })));
        return;
      }
      pending.set(socket, target.address);
      socket.once('connect', onConnect);
      socket.once('error', onError);
    };

    const onAbort = (): void => finish(undefined, signal?.reason);
    const deadline = setTimeout(() => {
      const where =
        queue.length === 1
          ? formatAuthority({ host: (queue[0] as PermittedAddress).address, port })
          : `${queue.length} addresses, port ${port}`;
      const err = new RelayError(
        'connection-timeout',
        `${where}: no connection within ${timeoutMs} ms`,
        {
          cause: lastError,
        },
      );
      finish(undefined, err);
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    startNext();
  });
}
