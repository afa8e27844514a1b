/**
 * The client's leg to the Oblivious HTTP relay: a POST over TLS to the ingress, on kept-alive
 * connections. Reusing a connection tells the relay nothing it does not know (it sees the
 * client's address on every request anyway), and the gateway never sees the connection at
 * all; it is also what lets one Privacy Pass token pay for several requests.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { RelayError } from '@splitrelay/errors';
import { tlsDefaults } from '@splitrelay/transport';
import type { IngressAddress } from '@splitrelay/outer-hop';

export interface RelayTransportOptions {
  readonly ingress: IngressAddress;
  readonly localAddress?: string;
  /** Until the relay's response head, ms. */
  readonly timeoutMs: number;
}

export interface RelayAnswer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: IncomingMessage;
}

export class RelayTransport {
  readonly #options: RelayTransportOptions;
  readonly #agent: https.Agent;

  constructor(options: RelayTransportOptions) {
    this.#options = options;
    this.#agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** POSTs `body` (bytes, or pieces written as they come) to the relay at `path`. */
  post(
    path: string,
    headers: Readonly<Record<string, string | number>>,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<RelayAnswer> {
    const { ingress, localAddress, timeoutMs } = this.#options;
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          ...tlsDefaults,
          host: ingress.host,
          port: ingress.port,
          servername: ingress.servername,
          ...(ingress.ca ? { ca: ingress.ca as string[] } : {}),
          ...(localAddress ? { localAddress } : {}),
          method: 'POST',
          path,
          headers,
          agent: this.#agent,
          timeout: timeoutMs,
          ...(signal ? { signal } : {}),
        },
        (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
      );
      req.on('timeout', () =>
        req.destroy(new RelayError('egress-timeout', 'the relay did not answer in time')),
      );
      req.on('error', (err) =>
        reject(
          err instanceof RelayError
            ? err
            : new RelayError('egress-unavailable', 'the relay could not be reached', {
                cause: err,
              }),
        ),
      );
      if (body instanceof Uint8Array) {
        req.end(body);
        return;
      }
      void (async () => {
        try {
          for await (const piece of body) if (!req.write(piece)) await drain(req);
          req.end();
        } catch (err) {
          req.destroy(err as Error);
        }
      })();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function drain(req: import('node:http').ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    req.once('drain', resolve);
    req.once('close', resolve);
  });
}

/** Reads an answer whole, bounded; a longer one is refused. */
export async function readAnswer(body: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new RelayError('connection-terminated', 'answer over the size limit');
    }
    chunks.push(chunk);
  }
  if (!body.complete) throw new RelayError('connection-terminated', 'the answer was cut off');
  return Buffer.concat(chunks, size);
}
