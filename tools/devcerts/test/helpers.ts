/** Real TLS peers on loopback for the devcerts tests, and the leaked-handle check. */
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
// The test kit builds on this package (through local-deployment): a dependency back would be
// a cycle.
import { activeResources, assertNoLeakedHandles as noLeaks } from '../../test-kit/src/handles.ts';

export interface Server {
  readonly port: number;
  /** Each connection that completed the handshake, in order. */
  readonly accepted: Array<{ authorized: boolean; peerCn: string | undefined }>;
  /** Each connection refused before it was handed to the application. */
  readonly refused: Array<{
    error: Error & { code?: string };
    authorizationError: string | undefined;
  }>;
  /** Destroys open connections, then closes the listener. */
  close(): Promise<void>;
}

export async function startTlsServer(options: tls.TlsOptions, host = '127.0.0.1'): Promise<Server> {
  const accepted: Server['accepted'] = [];
  const refused: Server['refused'] = [];
  const sockets = new Set<Socket>();
  const server = tls.createServer({ minVersion: 'TLSv1.3', ...options }, (socket) => {
    const peer = socket.getPeerCertificate();
    accepted.push({
      authorized: socket.authorized,
      peerCn: peer?.subject?.CN as string | undefined,
    });
    socket.end('hello');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (error, socket) =>
    refused.push({ error, authorizationError: socket.authorizationError?.toString() }),
  );
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    accepted,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ClientResult {
  readonly ok: boolean;
  readonly data: string;
  readonly error: (Error & { code?: string }) | undefined;
}

/** Connects, reads until the server closes, and reports what happened (never throws). */
export async function tlsRequest(options: tls.ConnectionOptions): Promise<ClientResult> {
  const socket = tls.connect({ minVersion: 'TLSv1.3', ...options });
  let data = '';
  let error: ClientResult['error'];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('error', (err) => (error = err));
  // Not events.once: it rejects on 'error', and the error is part of what is reported.
  await new Promise((resolve) => socket.on('close', resolve));
  return { ok: error === undefined && data === 'hello', data, error };
}

// Taken when the test file loads: the runner's own stdio pipes are there from the start.
const baseline = activeResources();

/** Fails if a test left a socket, server, timer or child process behind. */
export const assertNoLeakedHandles = (): Promise<void> => noLeaks({ baseline });
