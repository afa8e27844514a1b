/**
 * Between the Fetch API's Request and Response and Binary HTTP (RFC 9292), for ohttpFetch:
 * what the client asks the gateway to do, and what comes back.
 */
import type { BhttpRequest, BhttpResponse, Field } from '@splitrelay/bhttp';
import { RelayError } from '@splitrelay/errors';

/** Fields Binary HTTP refuses (RFC 9292 §3.6 by way of HTTP/2 §8.2.2), or the authority sets. */
const NOT_SENT = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

export async function toBhttpRequest(request: Request): Promise<BhttpRequest> {
  const url = new URL(request.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new RelayError('malformed-request', `${url.protocol} URLs are not supported`);
  if (url.username !== '' || url.password !== '')
    throw new RelayError('malformed-request', 'credentials in a URL are not sent');
  const headers: Field[] = [];
  for (const [name, value] of request.headers) {
    if (NOT_SENT.has(name) || (name === 'te' && value !== 'trailers')) continue;
    headers.push({ name, value });
  }
  const content =
    request.body === null ? new Uint8Array(0) : new Uint8Array(await request.arrayBuffer());
  return {
    method: request.method,
    scheme: url.protocol.slice(0, -1),
    authority: url.host,
    path: `${url.pathname}${url.search}`,
    headers,
    content,
    trailers: [],
  };
}

/** A status the Response constructor takes: 200-599, as Binary HTTP's final responses are. */
export function toResponse(response: BhttpResponse, url: string): Response {
  return responseOf(response.status, response.headers, response.content, url);
}

export function responseOf(
  status: number,
  fields: readonly Field[],
  body: Uint8Array | ReadableStream<Uint8Array> | null,
  url: string,
): Response {
  const headers = new Headers();
  for (const f of fields) {
    try {
      headers.append(f.name, f.value);
    } catch {
      // A value the Fetch API refuses (it validates more strictly than Binary HTTP): dropped.
    }
  }
  // 1xx never get here; 204, 205 and 304 must not have a body in the Fetch API.
  const nullBody = status === 204 || status === 205 || status === 304;
  const content =
    nullBody || body === null ? null : body instanceof Uint8Array ? Buffer.from(body) : body;
  const out = new Response(content, { status, headers });
  Object.defineProperty(out, 'url', { value: url });
  return out;
}
