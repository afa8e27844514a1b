/** Free TCP ports on a loopback address; NATS gets its own range, 127.0.7.0/24. */
export { freePort } from '@splitrelay/local-deployment';

export const NATS_HOSTS = ['127.0.7.1', '127.0.7.2', '127.0.7.3'] as const;

/** `host:port`, bracketing IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
