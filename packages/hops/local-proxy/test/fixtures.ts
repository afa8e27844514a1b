/** Real loopback peers for the local-proxy tests: an echo server, an HTTP origin, a fake connector. */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { duplexPair, type Duplex } from 'node:stream';
import { RelayError, type RelayErrorCode } from '@splitrelay/errors';
import type { Target, TunnelConnector } from '../src/index.ts';

export async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

export async function closeServer(server: net.Server): Promise<void> {
  if (!server.listening) return;
  const closed = once(server, 'close');
  server.close();
  if (server instanceof http.Server) server.closeAllConnections();
  await closed;
}

/** Echoes every byte, and ends its side once the peer has ended theirs (half-close aware). */
export function createEchoServer(): net.Server {
  return net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
}

/** Answers every request with a JSON description of what it received. */
export function createOrigin(): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-origin': 'yes',
        connection: 'keep-alive, x-hop',
        'x-hop': 'drop me',
      });
      res.end(body);
    });
  });
}

export interface FakeConnector {
  readonly connect: TunnelConnector;
  /** Every target asked for, in order. */
  readonly targets: Target[];
  /** Tunnels handed out, to check they were closed. */
  readonly tunnels: Duplex[];
}

/**
 * Routes names to local ports without any DNS: `routes` maps a host (name or address) to a
 * port on 127.0.0.1, `refuse` maps a host to the RelayError code to reject with. Other
 * targets on 127.0.0.1 are dialled as given.
 */
export function fakeConnector(
  routes: Record<string, number>,
  refuse: Record<string, RelayErrorCode | RelayError> = {},
  /** Hosts whose tunnel is a plain Duplex rather than a net.Socket, as real tunnels are. */
  plain: ReadonlySet<string> = new Set(),
): FakeConnector {
  const targets: Target[] = [];
  const tunnels: Duplex[] = [];
  const connect: TunnelConnector = async (target) => {
    targets.push(target);
    const refusal = refuse[target.host];
    if (refusal !== undefined) {
      throw typeof refusal === 'string'
        ? new RelayError(refusal, `refused by test (${refusal})`)
        : refusal;
    }
    const port = routes[target.host] ?? (target.host === '127.0.0.1' ? target.port : undefined);
    if (port === undefined) throw new RelayError('dns-error', 'no such test host');
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
    tunnels.push(socket);
    try {
      await once(socket, 'connect');
    } catch (err) {
      throw new RelayError('connection-refused', 'test target refused', { cause: err });
    }
    return plain.has(target.host) ? asPlainDuplex(socket) : socket;
  };
  return { connect, targets, tunnels };
}

/** The socket behind a Duplex that has none of net.Socket's extras (like an h2 stream). */
function asPlainDuplex(socket: net.Socket): Duplex {
  const [near, far] = duplexPair();
  near.pipe(socket);
  socket.pipe(near);
  const destroyBoth = (): void => {
    socket.destroy();
    near.destroy();
    far.destroy();
  };
  socket.on('error', destroyBoth);
  near.on('error', destroyBoth);
  far.on('error', destroyBoth);
  far.on('close', destroyBoth);
  socket.on('close', () => {
    if (!socket.readableEnded) destroyBoth();
  });
  return far;
}

/** Collects a socket's bytes and lets a test wait for a count, a delimiter or the end. */
export class Reader {
  buf = Buffer.alloc(0);
  ended = false;
  #wake: (() => void) | undefined;

  constructor(socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.#wake?.();
    });
    socket.on('end', () => {
      this.ended = true;
      this.#wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.#wake?.();
    });
    socket.on('error', () => undefined);
  }

  async #until(done: () => boolean): Promise<void> {
    while (!done()) {
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  async bytes(n: number): Promise<Buffer> {
    await this.#until(() => this.buf.length >= n);
    assert.ok(this.buf.length >= n, `wanted ${n} bytes, got ${this.buf.length} before the end`);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Bytes up to and including `delimiter`. */
  async through(delimiter: string): Promise<string> {
    await this.#until(() => this.buf.includes(delimiter));
    const at = this.buf.indexOf(delimiter);
    assert.ok(at !== -1, `no ${JSON.stringify(delimiter)} before the end: ${this.buf.toString()}`);
    const out = this.buf.subarray(0, at + delimiter.length).toString('latin1');
    this.buf = this.buf.subarray(at + delimiter.length);
    return out;
  }

  async end(): Promise<Buffer> {
    await this.#until(() => false);
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }
}

export async function dial(
  port: number,
  host = '127.0.0.1',
): Promise<{ socket: net.Socket; reader: Reader }> {
  const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
  const reader = new Reader(socket);
  await once(socket, 'connect');
  return { socket, reader };
}

/** Handles this suite could leak: sockets, servers, timers, child processes (stdio pipes excluded). */
export function liveHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => /TCP|UDP|Timeout|Immediate|Process/.test(r));
}
