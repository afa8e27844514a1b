/** Targets for end-to-end tests, on the targets' loopback address. */
import https from 'node:https';
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';

export interface Listening<S> {
  readonly server: S;
  readonly port: number;
  close(): Promise<void>;
}

async function listen<S extends net.Server>(
  server: S,
  host: string,
  port = 0,
): Promise<Listening<S>> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** An HTTPS server with a certificate from the local CA; answers with a fixed page. */
export async function httpsTarget(
  host: string,
  certFile: string,
  keyFile: string,
  body = 'hello from the target\n',
  port = 0,
) {
  const server = https.createServer(
    { cert: await readFile(certFile), key: await readFile(keyFile) },
    (req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        'x-seen-peer': req.socket.remoteAddress ?? '',
      });
      res.end(body);
    },
  );
  return listen(server, host, port);
}

/** A TCP echo server that keeps half-close: it ends only after the client ended. */
export async function echoTarget(host: string) {
  const peers: string[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    peers.push(socket.remoteAddress ?? '');
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  return { ...(await listen(server, host)), peers };
}
