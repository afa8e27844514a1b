/**
 * An undici Agent whose connections are tunnels: undici's connector contract
 * (`(options, callback)`, types/connector.d.ts in undici 8) on top of a TunnelConnector, so
 * plain-HTTP requests to an origin reuse undici's pooling, keep-alive and HTTP/1.1 parsing.
 */
import type { Socket } from 'node:net';
import { Agent, type buildConnector } from 'undici';
import { RelayError } from '@splitrelay/errors';
import type { TunnelConnector } from './types.ts';

export function connectorFor(connect: TunnelConnector): buildConnector.connector {
  return (opts, callback) => {
    if (opts.protocol !== 'http:') {
      // The tunnel is raw bytes: an https origin would need TLS over it, which clients do
      // themselves through CONNECT.
      callback(
        new RelayError('malformed-request', 'only http origins go through this agent'),
        null,
      );
      return;
    }
    const port = Number(opts.port) || 80;
    connect({ host: opts.hostname, port }).then(
      // undici reads and writes the stream like a socket; it needs no other Socket member
      // (ref/unref and alpnProtocol are checked before use).
      (stream) => callback(null, stream as Socket),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
    );
  };
}

export function createTunnelAgent(
  connect: TunnelConnector,
  options: Omit<Agent.Options, 'connect'> = {},
): Agent {
  return new Agent({ ...options, connect: connectorFor(connect) });
}
