/** Real TLS peers on loopback for the devcerts tests, and the leaked-handle check. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';

export interface Server {
  readonly port: number;
  /** Resolves with each accepted connection's authorization, in order. */
  readonly accepted: Array<{ authorized: boolean; peerCn: string | undefined }>;
  readonly clientErrors: Error[];
  close(): Promise<void>;
}

export async function startTlsServer(
  options: tls.TlsOptions,
  host = '127.0.0.1',
): Promise<Server> {
  const accepted: Server['accepted'] = [];
  const clientErrors: Error[] = [];
  const server = tls.createServer({ minVersion: 'TLSv1.3', ...options }, (socket) => {
    const peer = socket.getPeerCertificate();
    accepted.push({ authorized: socket.authorized, peerCn: peer?.subject?.CN as string | undefined });
    socket.end('hello');
  });
  server.on('tlsClientError', (err) => clientErrors.push(err));
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    accepted,
    clientErrors,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
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
  await once(socket, 'close');
  return { ok: error === undefined && data === 'hello', data, error };
}

/** Fails if a test left a socket, server, timer or child process behind. */
export function assertNoLeakedHandles(): void {
  assert.deepEqual(process.getActiveResourcesInfo(), []);
}
