/**
 * Real loopback UDP peers for the UDP ASSOCIATE tests: an echo server, a fake UdpConnector whose
 * flows are dgram sockets connected to it, and a small SOCKS5 UDP client built on the codecs.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import type net from 'node:net';
import { RelayError, type RelayErrorCode } from '@splitrelay/errors';
import {
  decodeReply,
  decodeUdpHeader,
  encodeGreeting,
  encodeRequest,
  encodeUdpHeader,
  type Socks5UdpDatagram,
  type SocksTarget,
} from '@splitrelay/socks5';
import type { Target, UdpConnector, UdpFlow } from '../src/index.ts';
import { dial, type Reader } from './fixtures.ts';

export async function bindUdp(address = '127.0.0.1', port = 0): Promise<dgram.Socket> {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  socket.bind({ port, address, exclusive: true });
  await once(socket, 'listening');
  return socket;
}

export function closeUdp(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

/** Echoes each datagram to its sender. */
export async function createUdpEcho(): Promise<{ socket: dgram.Socket; port: number }> {
  const socket = await bindUdp();
  socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
  return { socket, port: socket.address().port };
}

/** A flow that is a connected dgram socket: what the relays' CONNECT-UDP flow looks like from here. */
export class FakeUdpFlow extends EventEmitter implements UdpFlow {
  readonly target: Target;
  closeCalls = 0;
  closed = false;
  readonly #socket: dgram.Socket;

  constructor(target: Target, socket: dgram.Socket) {
    super();
    this.target = target;
    this.#socket = socket;
    socket.on('message', (msg) => this.emit('datagram', msg));
  }

  send(payload: Uint8Array): void {
    if (!this.closed) this.#socket.send(payload);
  }

  close(): void {
    this.closeCalls++;
    this.#end();
  }

  /** The relay side ends the flow (not a close() call from the association). */
  remoteClose(): void {
    this.#end();
  }

  #end(): void {
    if (this.closed) return;
    this.closed = true;
    closeUdp(this.#socket);
    this.emit('close');
  }
}

export interface FakeUdpConnector {
  readonly openUdp: UdpConnector;
  readonly targets: Target[];
  readonly flows: FakeUdpFlow[];
  /** Signals passed with each call, to check the association aborts pending opens. */
  readonly signals: AbortSignal[];
  /** Holds opens of `host` until the returned function is called (the signal is ignored). */
  gate(host: string): () => void;
}

/** `routes` maps a host (name or address) to the echo port; `refuse` maps a host to a code. */
export function fakeUdpConnector(
  routes: Record<string, number>,
  refuse: Record<string, RelayErrorCode> = {},
): FakeUdpConnector {
  const targets: Target[] = [];
  const flows: FakeUdpFlow[] = [];
  const signals: AbortSignal[] = [];
  const gates = new Map<string, Promise<void>>();
  const openUdp: UdpConnector = async (target, signal) => {
    targets.push(target);
    if (signal) signals.push(signal);
    await gates.get(target.host);
    const code = refuse[target.host];
    if (code !== undefined) throw new RelayError(code, `refused by test (${code})`);
    const port = routes[target.host];
    if (port === undefined) throw new RelayError('dns-error', 'no such test host');
    const socket = dgram.createSocket('udp4');
    socket.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const flow = new FakeUdpFlow(target, socket);
    flows.push(flow);
    return flow;
  };
  const gate = (host: string): (() => void) => {
    let release = (): void => undefined;
    gates.set(
      host,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    return () => {
      gates.delete(host);
      release();
    };
  };
  return { openUdp, targets, flows, signals, gate };
}

/** A SOCKS5 UDP client: a control connection, a UDP socket, and the relay's address. */
export class SocksUdpClient {
  readonly control: net.Socket;
  readonly reader: Reader;
  readonly udp: dgram.Socket;
  readonly relay: { host: string; port: number };
  readonly #received: Socks5UdpDatagram[] = [];
  #wake: (() => void) | undefined;

  private constructor(
    control: net.Socket,
    reader: Reader,
    udp: dgram.Socket,
    relay: { host: string; port: number },
  ) {
    this.control = control;
    this.reader = reader;
    this.udp = udp;
    this.relay = relay;
    udp.on('message', (msg) => {
      const d = decodeUdpHeader(msg);
      assert.ok(d.ok, 'the relay sent a truncated datagram');
      this.#received.push({ ...d.value, data: Buffer.from(d.value.data) });
      this.#wake?.();
    });
  }

  /** `announce`: put the UDP socket's own port in the request instead of 0. */
  static async associate(
    proxyPort: number,
    options: { proxyHost?: string; udpAddress?: string; announce?: boolean } = {},
  ): Promise<SocksUdpClient> {
    const udp = await bindUdp(options.udpAddress ?? options.proxyHost ?? '127.0.0.1');
    const { socket, reader } = await dial(proxyPort, options.proxyHost);
    socket.write(encodeGreeting({ methods: [0x00] }));
    assert.deepEqual([...(await reader.bytes(2))], [0x05, 0x00]);
    const port = options.announce ? udp.address().port : 0;
    socket.write(encodeRequest({ command: 'udp-associate', host: '0.0.0.0', port }));
    const head = await reader.bytes(4);
    const reply = decodeReply(Buffer.concat([head, await reader.bytes(head[3] === 4 ? 18 : 6)]));
    assert.ok(reply.ok);
    assert.equal(reply.value.reply, 0x00, 'UDP ASSOCIATE was refused');
    return new SocksUdpClient(socket, reader, udp, {
      host: reply.value.host,
      port: reply.value.port,
    });
  }

  send(target: SocksTarget, payload: string | Uint8Array, frag = 0, from = this.udp): void {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.sendRaw(encodeUdpHeader({ ...target, frag }, data), from);
  }

  sendRaw(datagram: Uint8Array, from = this.udp): void {
    from.send(datagram, this.relay.port, this.relay.host);
  }

  /** The next datagram from the relay, within `timeoutMs`. */
  async receive(timeoutMs = 2000): Promise<Socks5UdpDatagram> {
    const got = await this.#next(timeoutMs);
    assert.ok(got, `no datagram within ${timeoutMs} ms`);
    return got;
  }

  /** Asserts nothing arrives for `ms`. */
  async nothing(ms = 100): Promise<void> {
    const got = await this.#next(ms);
    assert.equal(got, undefined, `unexpected datagram: ${got && Buffer.from(got.data).toString()}`);
  }

  close(): void {
    this.control.destroy();
    closeUdp(this.udp);
  }

  async #next(timeoutMs: number): Promise<Socks5UdpDatagram | undefined> {
    if (this.#received.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return this.#received.shift();
  }
}

/** Polls `condition` every 5 ms, failing after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 2000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
