/**
 * The reachability probe that verify.ts runs inside each role (as a separate Node process, so
 * it lives in the role's namespace). Protocol, one JSON object per line:
 *
 *   argv[2]  { "listen": ["198.51.100.2", "2001:db8:0:2::2"] }
 *   stdout   { "listening": [{ "address": "198.51.100.2", "port": 40123 }, ...] }
 *   stdin    { "timeoutMs": 1500, "probes": [{ "id": 0, "address": "...", "port": 1, "source"?: "127.100.3.1" }] }
 *   stdout   { "results": [{ "id": 0, "outcome": "connected" | "refused" | "unreachable" | "timeout" | "error", "code": "...", "ms": 3 }] }
 *
 * It keeps listening (accepting and closing) until stdin ends, then exits.
 */
import net from 'node:net';
import { createInterface } from 'node:readline';

interface Probe {
  readonly id: number;
  readonly address: string;
  readonly port: number;
  /** Local address to connect from (on a shared loopback, the role's own). */
  readonly source?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as { listen?: string[] };
const servers: net.Server[] = [];

async function listen(address: string): Promise<{ address: string; port: number }> {
  const server = net.createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: address, ipv6Only: address.includes(':') }, () => resolve());
  });
  return { address, port: (server.address() as net.AddressInfo).port };
}

function probe(p: Probe, timeoutMs: number): Promise<object> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({
      host: p.address,
      port: p.port,
      ...(p.source ? { localAddress: p.source } : {}),
    });
    const done = (outcome: string, code?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({
        id: p.id,
        outcome,
        ...(code ? { code } : {}),
        ms: Math.round(performance.now() - started),
      });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => done('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'unknown';
      if (code === 'ECONNREFUSED') done('refused', code);
      else if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH') done('unreachable', code);
      else done('error', code);
    });
  });
}

const listening = await Promise.all((config.listen ?? []).map(listen));
process.stdout.write(`${JSON.stringify({ listening })}\n`);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const request = JSON.parse(line) as { timeoutMs: number; probes: Probe[] };
  void Promise.all(request.probes.map((p) => probe(p, request.timeoutMs))).then((results) =>
    process.stdout.write(`${JSON.stringify({ results })}\n`),
  );
});
lines.on('close', () => {
  for (const s of servers) s.close();
  process.exit(0);
});
