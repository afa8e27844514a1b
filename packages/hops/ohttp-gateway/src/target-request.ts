/**
 * One decapsulated request, performed: the Binary HTTP request becomes an undici request on
 * the origin agent (whose connections the target dialer opens under the policy), and the
 * answer comes back as a status, fields that Binary HTTP can carry, and the body as a stream.
 *
 *   BhttpRequest { method, scheme, authority, path, headers, content }
 *     ─▶ decideTarget: scheme http|https, authority parsed (default port), path origin-form
 *     ─▶ agent.request({ origin, path, method, headers, body })    RelayError on refusal
 *     ─▶ { status, headers: Field[], body }
 */
import type { Readable } from 'node:stream';
import { formatAuthority, parseAuthority, type Authority } from '@splitrelay/authority';
import type { BhttpRequest, Field } from '@splitrelay/bhttp';
import { RelayError, isRelayError } from '@splitrelay/errors';
import type { Dispatcher } from 'undici';

export interface TargetAnswer {
  readonly status: number;
  readonly headers: readonly Field[];
  readonly body: Readable;
}

export interface TargetRequestOptions {
  /** Until the target's response head, ms. */
  readonly headersTimeoutMs: number;
  /** Between two pieces of the target's body, ms. */
  readonly bodyTimeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface DecidedTarget {
  readonly scheme: 'http' | 'https';
  readonly target: Authority;
  readonly origin: string;
}

/** Which origin a request names; refusals are the request's fault (400/405). */
export function decideTarget(request: BhttpRequest): DecidedTarget {
  const scheme = request.scheme.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https')
    throw new RelayError('malformed-request', 'scheme must be http or https');
  if (request.method === 'CONNECT')
    throw new RelayError('method-not-allowed', 'CONNECT is not served through the gateway');
  const authority =
    request.authority !== ''
      ? request.authority
      : (request.headers.find((f) => f.name === 'host')?.value ?? '');
  if (authority === '') throw new RelayError('malformed-request', 'no authority');
  const hasPort = /:\d+$/.test(authority) && !authority.endsWith(']');
  const target = parseAuthority(
    hasPort ? authority : `${authority}:${scheme === 'https' ? 443 : 80}`,
  );
  if (!request.path.startsWith('/'))
    throw new RelayError('malformed-request', 'path must be in origin form');
  return { scheme, target, origin: `${scheme}://${formatAuthority(target)}` };
}

/** Fields the origin request does not take from the client (undici or the target set them). */
const NOT_FORWARDED = new Set(['host', 'content-length', 'expect']);

export async function requestTarget(
  agent: Dispatcher,
  request: BhttpRequest,
  decided: DecidedTarget,
  options: TargetRequestOptions,
): Promise<TargetAnswer> {
  const headers: string[] = [];
  for (const f of request.headers) {
    if (!NOT_FORWARDED.has(f.name)) headers.push(f.name, f.value);
  }
  const hasBody = request.content.length > 0;
  let answer: Dispatcher.ResponseData;
  try {
    answer = await agent.request({
      origin: decided.origin,
      path: request.path,
      method: request.method as Dispatcher.HttpMethod,
      headers,
      ...(hasBody ? { body: Buffer.from(request.content) } : {}),
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    throw targetError(err);
  }
  return { status: answer.statusCode, headers: responseFields(answer.headers), body: answer.body };
}

/** What undici reports, as the refusal to send (a RelayError from the dialer is kept as is). */
function targetError(err: unknown): RelayError {
  if (isRelayError(err)) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const cause = { cause: err };
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new RelayError('connection-timeout', 'target did not answer in time', cause);
    case 'UND_ERR_ABORTED':
      return new RelayError('connection-terminated', 'request aborted', cause);
    case 'UND_ERR_INVALID_ARG':
      return new RelayError('malformed-request', 'request cannot be sent to the target', cause);
    default:
      return new RelayError('connection-terminated', 'target connection failed', cause);
  }
}

/**
 * The target's fields that a Binary HTTP response can carry: connection-specific ones are
 * the hop's own (RFC 9292 §3.6 refers to HTTP/2's rules), and a value Binary HTTP refuses
 * (a stray CR or surrounding space) is dropped rather than failing the whole answer.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);
const NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// eslint-disable-next-line no-control-regex -- NUL, CR and LF are exactly what must not pass
const BAD_VALUE = /[\x00\r\n]|^[ \t]|[ \t]$|[^\x00-\xff]/;

function responseFields(headers: Record<string, string | string[] | undefined>): Field[] {
  const out: Field[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || !NAME.test(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (!BAD_VALUE.test(v)) out.push({ name, value: v });
    }
  }
  return out;
}
