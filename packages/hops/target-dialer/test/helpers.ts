/** Loopback peers for the dialer tests: servers that count what reaches them. */
import net from 'node:net';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import assert from 'node:assert/strict';
import { RelayError, type RelayErrorCode } from '@splitrelay/errors';

export interface CountingServer {
  readonly port: number;
  readonly host: string;
  connections: number;
  close(): Promise<void>;
}

/** Listens on host (port 0 unless given), echoes, and counts accepted connections. */
export async function countingServer(host = '127.0.0.1', port = 0): Promise<CountingServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  server.listen(port, host);
  await once(server, 'listening');
  const state: CountingServer = {
    port: (server.address() as net.AddressInfo).port,
    host,
    connections: 0,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  return state;
}

/** A loopback port with nothing listening on it (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const s = await countingServer();
  await s.close();
  return s.port;
}

/**
 * A listener whose accept queue is full, so a further SYN is dropped and connect hangs: a
 * real connect timeout without leaving loopback. The listener lives in a worker that blocks
 * its event loop, so nothing accepts; the kernel queues `backlog + 1` connections and drops
 * later SYNs. Returns undefined if this kernel does not behave so.
 */
export async function blackholeListener(): Promise<
  { port: number; close(): Promise<void> } | undefined
> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
       server.close();
     });`,
    { eval: true, workerData: gate },
  );
  const [port] = (await once(worker, 'message')) as [number];
  const fillers: net.Socket[] = [];
  const close = async (): Promise<void> => {
    for (const s of fillers) s.destroy();
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await worker.terminate();
  };
  for (let i = 0; i < 8; i++) {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    fillers.push(s);
    const connected = await Promise.race([
      once(s, 'connect').then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 200)),
    ]);
    if (!connected) return { port, close };
  }
  await close();
  return undefined;
}

export async function rejectsWith(
  promise: Promise<unknown>,
  code: RelayErrorCode,
  details?: RegExp,
): Promise<RelayError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RelayError, `expected a RelayError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (details !== undefined) assert.match(err.details, details);
    return err;
  }
  assert.fail(`expected ${code}`);
}

/** Fails if a socket, server, timer or DNS request is still alive (pipes to the runner aside). */
export async function assertNoLeakedHandles(): Promise<void> {
  const leaked = (): string[] =>
    process.getActiveResourcesInfo().filter((r) => r !== 'PipeWrap' && r !== 'TTYWrap');
  // Destroyed sockets close on the next turns of the loop.
  for (let i = 0; i < 50 && leaked().length > 0; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(leaked(), []);
}

/** A resolver that answers only when told to, and honours the dialer's abort. */
export function stalledResolver(): {
  resolve: (host: string, signal: AbortSignal) => Promise<string[]>;
  calls: string[];
  aborted: () => boolean;
} {
  const calls: string[] = [];
  let abortedFlag = false;
  return {
    calls,
    aborted: () => abortedFlag,
    resolve: (host, signal) => {
      calls.push(host);
      return new Promise<string[]>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          abortedFlag = true;
          reject(signal.reason);
        });
      });
    },
  };
}
