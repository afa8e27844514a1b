/**
 * A relay's health endpoint for its operator: plain HTTP on a loopback address, one JSON
 * document (`GET /health`), 200 while the relay can serve and 503 when it cannot. It holds
 * no per-flow data: the snapshot function decides what is in it. A relay may add documents
 * it publishes (its geofeed, its signed manifest) as `routes`, for the operator's publishing
 * step or a local auditor to fetch.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthSnapshot {
  readonly ok: boolean;
  readonly [key: string]: unknown;
}

/** One published document: its media type and body, made when it is asked for. */
export type HealthRoute = () => { readonly type: string; readonly body: string };

export async function serveHealth(
  host: string,
  port: number,
  snapshot: () => HealthSnapshot,
  routes: Readonly<Record<string, HealthRoute>> = {},
): Promise<{ address: AddressInfo; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && Object.hasOwn(routes, url)) {
      const { type, body } = (routes[url] as HealthRoute)();
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
      res.end(body);
      return;
    }
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
