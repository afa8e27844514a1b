/**
 * A throwaway nats-server on a loopback address for the shell's tests: no auth, no
 * JetStream, a port picked free once so the same server can come back on it (reconnect).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export const NATS_SERVER = '/usr/sbin/nats-server';
export const HOST = '127.0.7.9';

async function freePort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export class TestNatsServer {
  readonly host: string;
  readonly port: number;
  #child: ChildProcess | undefined;

  private constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** Picks a free port without starting, to test clients that come up before the server. */
  static async create(host = HOST): Promise<TestNatsServer> {
    return new TestNatsServer(host, await freePort(host));
  }

  static async start(host = HOST): Promise<TestNatsServer> {
    const server = await TestNatsServer.create(host);
    await server.restart();
    return server;
  }

  get url(): string {
    return `nats://${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** (Re)starts the server on the same address; resolves once it accepts clients. */
  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error('already running');
    const child = spawn(NATS_SERVER, ['-a', this.host, '-p', String(this.port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nats-server did not start:\n${log}`)),
        10_000,
      );
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        log += chunk;
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}):\n${log}`));
      });
    });
    // After readiness its log is of no interest, but the pipe must keep draining.
    child.stderr?.resume();
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    // 'close' comes after the exit and the end of stderr, so no pipe handle outlives stop().
    const closed = once(child, 'close');
    child.kill('SIGKILL');
    await closed;
  }
}
