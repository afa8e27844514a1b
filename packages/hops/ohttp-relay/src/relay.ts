/**
 * The Oblivious HTTP relay at the ingress (RFC 9458 §2, §6.1): it forwards each client's
 * encapsulated request to the egress's gateway and the answer back, unchanged, and can read
 * neither: it holds no key, and its build holds no OHTTP, HPKE or Binary HTTP code.
 *
 *   client POST OHTTP_RELAY_PREFIX<egress-id>   content-type message/ohttp-req | -chunked-req
 *     1 admit     POST, media type, egress in the signed directory and up,
 *                 the caller's admission (rate per address, Privacy Pass)   ─▶ 405/415/403/503/429/401
 *     2 forward   a new request stream on the pooled trunk with ONLY
 *                 :method :path :authority, content-type, content-length    (nothing of the client)
 *                 the body streamed through, bounded                        ─▶ 413
 *     3 return    the gateway's status, content-type and body, streamed     ─▶ 502/504 if it fails
 *
 *   client GET OHTTP_KEYS_PREFIX<egress-id> ─▶ 200 application/ohttp-keys, the signed entry's bytes
 *
 * Why a request stream on the trunk's h2 and not a tunnel: the encapsulation already protects
 * the request end to end, so an inner TLS session would add a handshake and nothing else; and
 * a fresh stream per request on connections all clients share gives the gateway nothing that
 * ties two requests together (it sees one ingress, many interleaved streams). What the pooling
 * does reveal: that requests came through this ingress, and when.
 */
import http2 from 'node:http2';
import type { Readable, Writable } from 'node:stream';
import { RelayError, proxyStatusFor, toRelayError } from '@splitrelay/errors';
import { declaredLength, withDeadline } from '@splitrelay/transport';
import { OHTTP_GATEWAY_PATH } from '@splitrelay/trunk';

/** RFC 9458 §9 and draft-ietf-ohai-chunked-ohttp: the only bodies this relay carries. */
export const RELAYED_TYPES: ReadonlySet<string> = new Set([
  'message/ohttp-req',
  'message/ohttp-chunked-req',
]);
export const OHTTP_KEYS_TYPE = 'application/ohttp-keys';

/** What the relay needs of one plain request (the outer hop's PlainRequest fits). */
export interface RelayRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly clientAddr: string;
  readonly connection: object;
  readonly body: Readable;
  readonly signal: AbortSignal;
}

export interface RelayReply {
  start(status: number, headers: Readonly<Record<string, string | number>>): Writable;
  readonly started: boolean;
  /** The rest of the request body is not wanted (after a refusal). */
  abandon(): void;
}

export interface RelayGateway {
  /** The egress's id on the trunk (its `:authority`). */
  readonly id: string;
  /** The signed entry's `application/ohttp-keys`, or undefined when it has no gateway. */
  readonly ohttpKeys: Uint8Array | undefined;
}

export interface OhttpRelayOptions {
  readonly relayPrefix: string;
  readonly keysPrefix: string;
  readonly maxRequestBytes: number;
  readonly maxResponseBytes: number;
  /** The whole exchange, from the first byte of the request to the last of the answer. */
  readonly timeoutMs: number;
  readonly proxyName: string;
  /** The egress by id, from the signed directory (throws the refusal: unknown, down). */
  readonly gateway: (egressId: string) => RelayGateway;
  /** The caller's admission of one request (throws the refusal). */
  readonly admit: (request: RelayRequest) => Promise<void>;
  /** One request stream on the trunk to that egress. */
  readonly send: (
    egressId: string,
    headers: http2.OutgoingHttpHeaders,
    signal: AbortSignal,
  ) => Promise<http2.ClientHttp2Stream>;
  readonly onRefusal?: (err: RelayError, egressId: string | undefined) => void;
  readonly onDone?: (stats: { bytesUp: number; bytesDown: number }) => void;
}

export interface OhttpRelay {
  /** The outer hop's `onRequest`: true when the path is one of the relay's. */
  handle(request: RelayRequest, reply: RelayReply): boolean;
  readonly counters: { relayed: number; keys: number; refused: number };
}

export function createOhttpRelay(options: OhttpRelayOptions): OhttpRelay {
  const counters = { relayed: 0, keys: 0, refused: 0 };

  function refuse(reply: RelayReply, err: RelayError, egressId: string | undefined): void {
    counters.refused++;
    options.onRefusal?.(err, egressId);
    if (reply.started) return;
    // The relay resource is an origin resource to the client: a Privacy Pass challenge is
    // WWW-Authenticate with 401 there, not the proxy form used for tunnels (RFC 9577 §2.1).
    const challenge = err.headers['proxy-authenticate'];
    const status = challenge !== undefined ? 401 : err.status;
    const headers: Record<string, string | number> = {
      'proxy-status': proxyStatusFor(options.proxyName, err),
      'content-type': 'text/plain; charset=utf-8',
      ...(challenge !== undefined ? { 'www-authenticate': challenge } : {}),
      ...(err.retryAfterSeconds !== undefined ? { 'retry-after': err.retryAfterSeconds } : {}),
    };
    reply.start(status, headers).end(`${err.details}\n`);
  }

  function keys(egressId: string, reply: RelayReply): void {
    const gateway = options.gateway(egressId);
    if (gateway.ohttpKeys === undefined)
      throw new RelayError('unknown-egress', 'this egress has no oblivious HTTP gateway');
    counters.keys++;
    reply
      .start(200, {
        'content-type': OHTTP_KEYS_TYPE,
        'content-length': gateway.ohttpKeys.length,
        'cache-control': 'max-age=60',
      })
      .end(gateway.ohttpKeys);
  }

  async function relay(egressId: string, request: RelayRequest, reply: RelayReply): Promise<void> {
    if (request.method !== 'POST')
      throw new RelayError('method-not-allowed', 'the relay takes POST only');
    const type = headerValue(request.headers['content-type'])?.toLowerCase();
    if (type === undefined || !RELAYED_TYPES.has(type))
      throw new RelayError('unsupported-media-type', 'not an oblivious HTTP request');
    const length = declaredLength(request.headers['content-length']);
    if (length !== undefined && length > options.maxRequestBytes)
      throw new RelayError('content-too-large', `body over ${options.maxRequestBytes} bytes`);
    const gateway = options.gateway(egressId);
    if (gateway.ohttpKeys === undefined)
      throw new RelayError('unknown-egress', 'this egress has no oblivious HTTP gateway');
    await options.admit(request);

    const abort = new AbortController();
    const onClientGone = (): void => abort.abort();
    request.signal.addEventListener('abort', onClientGone, { once: true });
    let upstream: http2.ClientHttp2Stream | undefined;
    let bytesUp = 0;
    let bytesDown = 0;
    let bodyDone = false;
    let out: Writable | undefined;
    try {
      await withDeadline(
        async (signal) => {
          signal.addEventListener('abort', () => cancel(upstream), { once: true });
          // Exactly these: nothing about the client, none of its other headers.
          upstream = await options.send(
            gateway.id,
            {
              ':method': 'POST',
              ':path': OHTTP_GATEWAY_PATH,
              ':authority': gateway.id,
              'content-type': type,
              ...(length !== undefined ? { 'content-length': length } : {}),
            },
            signal,
          );
          const answer = onceResponse(upstream);
          answer.catch(() => {});
          const sent = forward(request.body, upstream, options.maxRequestBytes).then((n) => {
            bytesUp = n;
            bodyDone = true;
          });
          // A gateway may answer (a refusal) before the body is all sent.
          const headers = await Promise.race([answer, sent.then(() => answer)]);
          const status = Number(headers[':status']);
          out = reply.start(status, {
            ...(headers['content-type'] !== undefined
              ? { 'content-type': String(headers['content-type']) }
              : {}),
            ...(headers['content-length'] !== undefined
              ? { 'content-length': String(headers['content-length']) }
              : {}),
          });
          sent.catch(() => {});
          bytesDown = await forward(upstream, out, options.maxResponseBytes, cleanlyClosed);
        },
        {
          ms: options.timeoutMs,
          signal: abort.signal,
          // Whose slowness it was: the client's body, or the gateway's answer.
          onTimeout: () =>
            bodyDone
              ? new RelayError('egress-timeout', 'gateway did not answer in time')
              : new RelayError('request-timeout', 'body not received in time'),
          onAbort: () => new RelayError('connection-terminated', 'client went away'),
        },
      );
      counters.relayed++;
      options.onDone?.({ bytesUp, bytesDown });
    } catch (err) {
      cancel(upstream);
      // Part of the answer went out: reset the client's stream (or connection), so it sees a
      // failed answer rather than a short one that ends cleanly.
      (out as Writable | undefined)?.destroy(new Error('answer cut off'));
      throw err;
    } finally {
      request.signal.removeEventListener('abort', onClientGone);
    }
  }

  return {
    counters,
    handle(request, reply) {
      const path = request.path.split('?', 1)[0] as string;
      const isRelay = path.startsWith(options.relayPrefix);
      const isKeys = request.method === 'GET' && path.startsWith(options.keysPrefix);
      if (!isRelay && !isKeys) return false;
      const egressId = path.slice((isRelay ? options.relayPrefix : options.keysPrefix).length);
      void (async () => {
        try {
          if (isKeys) keys(egressId, reply);
          else await relay(egressId, request, reply);
        } catch (err) {
          const relayErr = toRelayError(err);
          // The name asked for is the client's: only an egress the directory knows is reported.
          let known: string | undefined;
          try {
            known = options.gateway(egressId).id;
          } catch {
            known = undefined;
          }
          if (reply.started) {
            counters.refused++;
            options.onRefusal?.(relayErr, known);
          } else {
            refuse(reply, relayErr, known);
            // Whatever of a refused body is still on its way is not read.
            reply.abandon();
          }
        }
      })();
      return true;
    },
  };
}

/**
 * Resets the request stream: the gateway must see a request to drop, never a clean end.
 * (`close(code)` would first end the body with END_STREAM; `destroy(err)` only resets.)
 */
function cancel(stream: http2.ClientHttp2Stream | undefined): void {
  if (stream !== undefined && !stream.destroyed) stream.destroy(new Error('request cancelled'));
}

/** Whether a stream whose readable side ended was closed without a reset (RFC 9113 §8.1). */
function cleanlyClosed(stream: Readable): Promise<boolean> {
  const h2 = stream as http2.ClientHttp2Stream;
  const check = (): boolean => h2.rstCode === undefined || h2.rstCode === 0;
  if (h2.closed) return Promise.resolve(check());
  return new Promise((resolve) => h2.once('close', () => resolve(check())));
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

function onceResponse(stream: http2.ClientHttp2Stream): Promise<http2.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('close', () =>
      reject(new RelayError('egress-unavailable', 'gateway closed the request')),
    );
  });
}

/**
 * Copies `from` into `to` with backpressure, at most `maxBytes`; resolves with the count once
 * `from` ended and `to` was ended. Over the bound: 413, and neither side is read or written more.
 */
function forward(
  from: Readable,
  to: Writable,
  maxBytes: number,
  complete: (from: Readable) => Promise<boolean> = () => Promise.resolve(true),
): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const cleanup = (): void => {
      from.off('data', onData);
      from.off('end', onEnd);
      from.off('close', onFromClose);
      to.off('drain', onDrain);
      to.off('close', onToClose);
    };
    const fail = (err: RelayError): void => {
      cleanup();
      from.pause();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      n += chunk.length;
      if (n > maxBytes) {
        fail(new RelayError('content-too-large', `body over ${maxBytes} bytes`));
        return;
      }
      if (!to.write(chunk)) from.pause();
    };
    const onDrain = (): void => {
      from.resume();
    };
    const onEnd = (): void => {
      cleanup();
      // A reset after the last byte still means the message is not whole: do not end `to`.
      void complete(from).then((whole) => {
        if (whole) to.end(() => resolve(n));
        else reject(new RelayError('connection-terminated', 'the answer was cut off'));
      });
    };
    const onFromClose = (): void =>
      fail(new RelayError('connection-terminated', 'body ended early'));
    const onToClose = (): void =>
      fail(new RelayError('connection-terminated', 'the other side went away'));
    from.on('data', onData);
    from.once('end', onEnd);
    from.once('close', onFromClose);
    to.on('drain', onDrain);
    to.once('close', onToClose);
  });
}
