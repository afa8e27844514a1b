/**
 * Absolute-form requests (RFC 9112 §3.2.2: `GET http://host:port/path HTTP/1.1`) forwarded
 * to the origin through a tunnel. Only `http:`: an `https:` URL would make this proxy do the
 * client's TLS, so such clients are told to use CONNECT.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { RelayError, isRelayError, type RelayErrorCode } from '@splitrelay/errors';
import { formatAuthority, parseAuthority, type Authority } from '@splitrelay/authority';
import { sendErrorResponse } from './http-responses.ts';
import type { LocalProxyLogger } from './types.ts';

export interface AbsoluteTarget {
  readonly target: Authority;
  /** origin-form path and query for the origin; the fragment is never sent. */
  readonly path: string;
  /** Host header for the origin: the URL's authority, without the default port. */
  readonly hostHeader: string;
}

/** Parses the request-target of a request that is not CONNECT. Throws `malformed-request`. */
export function parseAbsoluteTarget(requestTarget: string): AbsoluteTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(requestTarget)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new RelayError(
      'malformed-request',
      'not a proxy request: use an absolute http:// URL or CONNECT',
    );
  }
  if (scheme === 'https') throw new RelayError('malformed-request', 'use CONNECT for https');
  if (scheme !== 'http')
    throw new RelayError('malformed-request', 'only http URLs can be forwarded');

  const rest = requestTarget.slice('http://'.length);
  const end = rest.search(/[/?#]/);
  const authorityText = end === -1 ? rest : rest.slice(0, end);
  let path = end === -1 ? '/' : rest.slice(end);
  const hash = path.indexOf('#');
  if (hash !== -1) path = path.slice(0, hash);
  if (!path.startsWith('/')) path = `/${path}`;

  // The port is optional in a URL (80), unlike in a CONNECT authority.
  const hasPort = authorityText.startsWith('[')
    ? /\]:/.test(authorityText)
    : authorityText.includes(':');
  const target = parseAuthority(hasPort ? authorityText : `${authorityText}:80`);
  const host = target.kind === 'ipv6' ? `[${target.host}]` : target.host;
  return { target, path, hostHeader: target.port === 80 ? host : formatAuthority(target) };
}

/** RFC 9110 §7.6.1 hop-by-hop fields, plus Expect (Node answers 100-continue itself). */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

function connectionTokens(values: (string | undefined)[]): Set<string> {
  const tokens = new Set<string>();
  for (const v of values)
    for (const t of (v ?? '').split(',')) if (t.trim()) tokens.add(t.trim().toLowerCase());
  return tokens;
}

/**
 * Request fields for the origin, in order: no hop-by-hop fields, nothing meant for a proxy
 * (`Proxy-Authorization`, `Proxy-Connection`, ...), and Host rewritten to the target.
 */
export function requestHeadersForOrigin(
  rawHeaders: readonly string[],
  hostHeader: string,
): string[] {
  const named = connectionTokens(pairValues(rawHeaders, 'connection'));
  const out = ['host', hostHeader];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (name === 'host' || hopByHop.has(name) || name.startsWith('proxy-') || named.has(name))
      continue;
    out.push(rawHeaders[i] as string, rawHeaders[i + 1] as string);
  }
  return out;
}

function pairValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) values.push(rawHeaders[i + 1] as string);
  }
  return values;
}

/** Response fields for the client: the origin's, minus its hop-by-hop fields. */
export function responseHeadersForClient(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const conn = headers.connection;
  const named = connectionTokens(Array.isArray(conn) ? conn : [conn]);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (
      value === undefined ||
      hopByHop.has(lower) ||
      lower === 'proxy-connection' ||
      named.has(lower)
    )
      continue;
    out[name] = value;
  }
  return out;
}

/** What undici's own failures mean to the client. */
function upstreamFailure(err: unknown): RelayError {
  if (isRelayError(err)) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const timeouts = new Set([
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
    'UND_ERR_CONNECT_TIMEOUT',
  ]);
  const relayCode: RelayErrorCode =
    typeof code === 'string' && timeouts.has(code) ? 'connection-timeout' : 'connection-terminated';
  return new RelayError(
    relayCode,
    relayCode === 'connection-timeout' ? 'origin timed out' : 'origin connection failed',
    { cause: err },
  );
}

export interface ForwardContext {
  /** A promise while the default dispatcher is still loading (see createHttpProxyServer). */
  readonly dispatcher: Dispatcher | Promise<Dispatcher>;
  readonly proxyName: string;
  readonly logger?: LocalProxyLogger;
}

export async function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  absolute: AbsoluteTarget,
  ctx: ForwardContext,
): Promise<void> {
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const hasBody =
    req.headers['transfer-encoding'] !== undefined ||
    (req.headers['content-length'] ?? '0') !== '0';
  try {
    const dispatcher = await ctx.dispatcher;
    const upstream = await dispatcher.request({
      origin: `http://${formatAuthority(absolute.target)}`,
      path: absolute.path,
      method: req.method as Dispatcher.HttpMethod,
      headers: requestHeadersForOrigin(req.rawHeaders, absolute.hostHeader),
      body: hasBody ? req : null,
      signal: abort.signal,
    });
    res.writeHead(upstream.statusCode, responseHeadersForClient(upstream.headers));
    await pipeline(upstream.body, res);
  } catch (err) {
    if (abort.signal.aborted) return;
    const relayErr = upstreamFailure(err);
    ctx.logger?.debug('http forward failed', { code: relayErr.code, status: relayErr.status });
    if (!res.headersSent) sendErrorResponse(res, relayErr, ctx.proxyName);
    else res.destroy();
  }
}
