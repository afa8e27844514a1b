/**
 * An undici Dispatcher whose connections are SplitRelay flows, so `fetch(url, { dispatcher })`
 * goes through both relays. For https origins the origin's TLS runs end to end on the flow:
 * neither relay can read it, and the origin's certificate is checked as usual.
 */
import tls from 'node:tls';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Agent, type buildConnector } from 'undici';
import type { Target } from './client.ts';

export type FlowConnector = (target: Target, signal?: AbortSignal) => Promise<Duplex>;

export interface DispatcherOptions {
  /** Extra CA certificates for https origins (tests use a local CA); system store otherwise. */
  readonly ca?: string | readonly string[];
  readonly agent?: Omit<Agent.Options, 'connect'>;
}

export function flowConnector(connect: FlowConnector, options: DispatcherOptions = {}): buildConnector.connector {
  return (opts, callback) => {
    const https = opts.protocol === 'https:';
    const port = Number(opts.port) || (https ? 443 : 80);
    connect({ host: opts.hostname, port }).then(
      (flow) => {
        if (!https) {
          callback(null, flow as Socket);
          return;
        }
        const socket = tls.connect({
          socket: flow,
          servername: opts.servername ?? opts.hostname,
          ALPNProtocols: ['http/1.1'],
          ...(options.ca ? { ca: options.ca as string[] } : {}),
        });
        socket.once('secureConnect', () => callback(null, socket));
        socket.once('error', (err) => callback(err, null));
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
    );
  };
}

export function createDispatcher(connect: FlowConnector, options: DispatcherOptions = {}): Agent {
  return new Agent({ ...options.agent, connect: flowConnector(connect, options) });
}
