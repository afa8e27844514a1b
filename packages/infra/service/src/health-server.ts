/**
 * A relay's health endpoint for its operator: plain HTTP on a loopback address, one JSON
 * document (`GET /health`), 200 while the relay can serve and 503 when it cannot. It holds
 * no per-flow data: the snapshot function decides what is in it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthSnapshot {
  readonly ok: boolean;
  readonly [key: string]: unknown;
}

export async function serveHealth(
  host: string,
  port: number,
  snapshot: () => HealthSnapshot,
): Promise<{ address: AddressInfo; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/health' && req.url !== '/')) {
      res.writeHead(404).end();
      return;
    }
    const body = snapshot();
    res.writeHead(body.ok ? 200 : 503, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    res.end(`${JSON.stringify(body)}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
