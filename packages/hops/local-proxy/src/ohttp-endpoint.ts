/**
 * A loopback HTTP endpoint that sends each request it gets as Oblivious HTTP, for local
 * programs that cannot call the SDK: the egress's gateway performs it (and does the target's
 * TLS), the ingress relays it, and neither learns both who asked and what.
 *
 *   GET https://example.com/page HTTP/1.1        (absolute form: as a proxy, e.g. curl --proxy)
 *   GET /https://example.com/page HTTP/1.1       (the URL as the path: e.g. curl http://127.0.0.1:8081/https://...)
 *     ─▶ fetch(url, { method, headers, body })   (ohttpFetch) ─▶ status, headers, body back
 *
 * Both http and https URLs are accepted: unlike a CONNECT tunnel, the gateway makes the
 * request itself. Refusals are the RelayError's status with Proxy-Status, as the HTTP proxy's.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { RelayError, toRelayError } from '@splitrelay/errors';
import { readBody } from '@splitrelay/transport';
import { DEFAULT_PROXY_NAME, sendErrorResponse } from './http-responses.ts';
import type { LocalProxyLogger } from './types.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface OhttpEndpointOptions {
  readonly fetch: FetchLike;
  /** Largest request body taken, bytes (413 beyond). Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Receiving the request body, ms. Default 30 s. */
  readonly bodyTimeoutMs?: number;
  readonly proxyName?: string;
  readonly logger?: LocalProxyLogger;
}

/** Fields that are this hop's own, or meant for a proxy, or that fetch sets itself. */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
  'content-length',
]);

/** The URL a request names: its absolute-form target, or an absolute URL as its path. */
export function requestedUrl(target: string): URL {
  const text = /^https?:\/\//i.test(target)
    ? target
    : /^\/https?:\/\//i.test(target)
      ? target.slice(1)
      : undefined;
  if (text === undefined)
    throw new RelayError(
      'malformed-request',
      'name the URL: GET https://host/path, or GET /https://host/path',
    );
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RelayError('malformed-request', 'not a URL');
  }
  if (url.username !== '' || url.password !== '')
    throw new RelayError('malformed-request', 'credentials in a URL are not sent');
  url.hash = '';
  return url;
}

export function createOhttpEndpoint(options: OhttpEndpointOptions): http.Server {
  const proxyName = options.proxyName ?? DEFAULT_PROXY_NAME;
  const server = http.createServer({ noDelay: true, requestTimeout: 0, headersTimeout: 30_000 });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    void (async () => {
      try {
        const url = requestedUrl(req.url ?? '');
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined || NOT_FORWARDED.has(name) || name.startsWith('proxy-')) continue;
          for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
        }
        const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
        const body = hasBody
          ? await readBody(req, {
              maxBytes: options.maxBodyBytes ?? 1024 * 1024,
              timeoutMs: options.bodyTimeoutMs ?? 30_000,
              signal: abort.signal,
            })
          : undefined;
        const response = await options.fetch(url.href, {
          method: req.method ?? 'GET',
          headers,
          ...(body !== undefined && body.length > 0 ? { body } : {}),
          signal: abort.signal,
        });
        const out: Record<string, string[]> = {};
        response.headers.forEach((value, name) => {
          if (NOT_FORWARDED.has(name)) return;
          (out[name] ??= []).push(value);
        });
        res.writeHead(response.status, out);
        if (response.body === null || req.method === 'HEAD') {
          res.end();
          return;
        }
        const stream = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
        stream.on('error', () => res.destroy());
        stream.pipe(res);
      } catch (err) {
        const relayErr = toRelayError(err, 'connection-terminated');
        options.logger?.debug('ohttp request refused', {
          code: relayErr.code,
          status: relayErr.status,
        });
        if (res.headersSent) res.destroy();
        else sendErrorResponse(res, relayErr, proxyName);
      }
    })();
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}
