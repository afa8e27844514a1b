/**
 * The wallet's HTTPS client for the issuer: two kinds of request (the directory, a batch of
 * token requests) on one kept-alive connection. It is `node:https` rather than undici because
 * it runs on every client's cold start, where loading undici alone costs ~65 ms
 * (docs/benchmarks.md "Cold start"); bodies are bounded since the answer is parsed here.
 */
import https from 'node:https';
import { RelayError } from '@splitrelay/errors';
import { tlsDefaults, tuneSocket } from '@splitrelay/transport';

export interface IssuerClientOptions {
  readonly ca?: string | readonly string[];
  readonly servername?: string;
  readonly localAddress?: string;
  readonly timeoutMs: number;
}

export interface IssuerResponse {
  readonly status: number;
  readonly body: Buffer;
}

/** A batch of 100 tokens is ~26 KiB; a directory a few KiB. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export class IssuerClient {
  readonly #agent: https.Agent;
  readonly #options: IssuerClientOptions;

  constructor(options: IssuerClientOptions) {
    this.#options = options;
    this.#agent = new https.Agent({
      ...tlsDefaults,
      keepAlive: true,
      maxSockets: 2,
      ...(options.ca ? { ca: options.ca as string[] } : {}),
      ...(options.servername ? { servername: options.servername } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
  }

  request(
    url: URL,
    init: { method?: 'GET' | 'POST'; headers: Record<string, string>; body?: Uint8Array },
  ): Promise<IssuerResponse> {
    return new Promise((resolve, reject) => {
      const fail = (reason: string, cause?: unknown) =>
        reject(new RelayError('auth-unavailable', `issuer ${reason}`, { cause }));
      const req = https.request(url, {
        agent: this.#agent,
        method: init.method ?? 'GET',
        headers: {
          ...init.headers,
          ...(init.body ? { 'content-length': String(init.body.length) } : {}),
        },
        timeout: this.#options.timeoutMs,
      });
      req.once('socket', (socket) => tuneSocket(socket));
      req.once('timeout', () => req.destroy(new Error('timed out')));
      req.once('error', (err) => fail('unreachable', err));
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            fail('answered more than 1 MiB');
            return;
          }
          chunks.push(chunk);
        });
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }),
        );
        res.once('error', (err) => fail('answer was cut off', err));
      });
      req.end(init.body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
