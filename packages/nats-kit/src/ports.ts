/** Free TCP ports on a loopback address; NATS gets its own range, 127.0.7.0/24. */
import net from 'node:net';

export const NATS_HOSTS = ['127.0.7.1', '127.0.7.2', '127.0.7.3'] as const;

export async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `host:port`, bracketing IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
