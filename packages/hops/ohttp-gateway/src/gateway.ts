/**
 * The Oblivious HTTP gateway at the egress (RFC 9458 §2, §5): it takes each encapsulated
 * request the ingress relay forwards on the trunk, removes the encapsulation, performs the
 * request (or answers it as DoH), and encapsulates the answer for the client alone.
 *
 *   trunk POST OHTTP_GATEWAY_PATH, content-type message/ohttp-req | message/ohttp-chunked-req
 *     1 admit       method, path, media type, concurrency     ─▶ 405 / 415 / 503, unencapsulated
 *     2 receive     body bounded in bytes and time           ─▶ 413 / 408
 *     3 decapsulate key by id (retired = unknown), HPKE open  ─▶ 400 (+ problem+json: unknown key)
 *     4 decode      Binary HTTP request                      ─▶ 400, encapsulated from here on
 *     5 perform     DoH authority: the egress's resolver; else the target policy and dialer
 *                   through undici                          ─▶ 403 / 502 / 504 with Proxy-Status
 *     6 answer      200 message/ohttp-res (known-length), or message/ohttp-chunked-res streamed
 *
 * Steps 1-3 fail unencapsulated with the fixed answers of @splitrelay/ohttp's error table,
 * so nothing the gateway says before decryption is an oracle; after decryption every failure
 * is a Binary HTTP response only the client can read (RFC 9458 §5.2). Nothing here ever
 * learns a client address: the only peer is an ingress relay, and the relay sends only the
 * media type and the length.
 */
import http2 from 'node:http2';
import {
  decodeRequest,
  encodeContentChunk,
  encodeIndeterminateResponseHead,
  encodeIndeterminateTail,
  encodeResponse,
  type BhttpLimits,
  type BhttpRequest,
  type BhttpResponse,
} from '@splitrelay/bhttp';
import { RelayError, proxyStatusFor, toRelayError } from '@splitrelay/errors';
import {
  ChunkedRequestDecoder,
  DOH_AUTHORITY,
  MEDIA_TYPES,
  OhttpError,
  createGateway,
  type Gateway,
} from '@splitrelay/ohttp';
import { declaredLength, readBody } from '@splitrelay/transport';
import { OHTTP_GATEWAY_PATH } from '@splitrelay/trunk';
import type { Dispatcher } from 'undici';
import { dohQuery, dohResponse, forwardDns, type DohOptions } from './doh.ts';
import { liveKeys, publishedKeyIds, retirements, type KeyRing } from './key-ring.ts';
import { decideTarget, requestTarget, type DecidedTarget } from './target-request.ts';

export interface OhttpGatewayLimits {
  /** Encapsulated request bytes, plain or chunked. */
  readonly maxRequestBytes: number;
  /** Target response body bytes; a larger answer is refused (plain) or cut off (chunked). */
  readonly maxResponseBytes: number;
  /** Requests in progress at once, all ingresses together. */
  readonly maxConcurrent: number;
  /** Binary HTTP bounds of the decapsulated request. */
  readonly bhttp?: BhttpLimits;
}

export interface OhttpGatewayTimeouts {
  /** Receiving the encapsulated request from the relay. */
  readonly requestMs: number;
  /** The target's response head. */
  readonly targetHeadersMs: number;
  /** Between two pieces of the target's body. */
  readonly targetBodyMs: number;
}

export interface OhttpGatewayOptions {
  readonly keys: KeyRing;
  /** The origin agent (createOriginAgent): every connection through the target dialer. */
  readonly agent: Dispatcher;
  readonly limits: OhttpGatewayLimits;
  readonly timeouts: OhttpGatewayTimeouts;
  /** Proxy name in the Proxy-Status of refusals inside encapsulated responses. */
  readonly proxyName: string;
  /** The DoH resolver behind `dohAuthority`; absent, DoH requests are refused. */
  readonly doh?: DohOptions;
  readonly dohAuthority?: string;
  /** Unix seconds, for key retirement. */
  readonly now?: () => number;
  /** A refusal after decryption: the target (for the egress's own flow log), never a client. */
  readonly onRefused?: (err: RelayError, target: DecidedTarget | undefined) => void;
}

export interface OhttpGatewayCounters {
  requests: number;
  chunked: number;
  doh: number;
  /** Unencapsulated refusals, by RelayError code or OHTTP reason. */
  refused: Record<string, number>;
  /** Answers that carry a refusal inside the encapsulation. */
  failedInside: number;
}

export interface OhttpGateway {
  /** The trunk's `onRequest`: one request stream from an ingress relay. */
  handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void;
  /** A new key ring (SIGHUP); requests already decapsulated finish with their key. */
  setKeys(ring: KeyRing): Promise<void>;
  /** Key ids currently published (the ring's order). */
  publishedKeyIds(): number[];
  readonly active: number;
  readonly counters: OhttpGatewayCounters;
  close(): Promise<void>;
}

/**
 * Content bytes per sealed response chunk: with its Binary HTTP framing, under the 2^14 bytes
 * of plaintext the chunked draft requires every decoder to accept, so any client reads it.
 */
const MAX_CONTENT_PER_CHUNK = 16 * 1024 - 8;

/** Waits for room in the stream's buffer; rejects when the stream is gone instead. */
function drained(stream: http2.ServerHttp2Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      stream.off('drain', onDrain);
      reject(new RelayError('connection-terminated', 'relay went away'));
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}

interface KeyState {
  readonly gateway: Gateway;
  readonly retiring: ReadonlyMap<number, number>;
  readonly ring: KeyRing;
}

async function keyState(ring: KeyRing, nowSeconds: number): Promise<KeyState> {
  return {
    gateway: await createGateway({ keys: liveKeys(ring, nowSeconds) }),
    retiring: retirements(ring),
    ring,
  };
}

export async function createOhttpGateway(options: OhttpGatewayOptions): Promise<OhttpGateway> {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const dohAuthority = (options.dohAuthority ?? DOH_AUTHORITY).toLowerCase();
  let keys = await keyState(options.keys, now());
  let active = 0;
  let closed = false;
  const inFlight = new Set<AbortController>();
  const counters: OhttpGatewayCounters = {
    requests: 0,
    chunked: 0,
    doh: 0,
    refused: {},
    failedInside: 0,
  };
  const count = (reason: string): void => {
    counters.refused[reason] = (counters.refused[reason] ?? 0) + 1;
  };

  /** Step 3's key check: a retired key is unknown, exactly as one never held. */
  function checkKeyWindow(state: KeyState, keyId: number | undefined): void {
    const notAfter = keyId === undefined ? undefined : state.retiring.get(keyId);
    if (notAfter !== undefined && now() >= notAfter) throw new OhttpError('unknown-key');
  }

  /** An unencapsulated refusal (steps 1-3), with exactly the table's headers and body. */
  function refuse(stream: http2.ServerHttp2Stream, err: RelayError): void {
    count(err instanceof OhttpError ? err.reason : err.code);
    if (stream.destroyed || stream.headersSent) {
      stream.destroy();
      return;
    }
    const body = err instanceof OhttpError ? err.problemJson : undefined;
    const head: http2.OutgoingHttpHeaders = { ':status': err.status, ...err.headers };
    if (err.retryAfterSeconds !== undefined) head['retry-after'] = String(err.retryAfterSeconds);
    stream.respond(head);
    // A body refused part way (413, 408) is still coming: once the answer is out, RST_STREAM
    // with NO_ERROR tells the relay to stop sending it (RFC 9113 §8.1).
    // (On the next turn: closing in end's own callback can drop the answer not yet framed.)
    stream.end(body, () =>
      setImmediate(() => {
        if (!stream.closed && !stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
      }),
    );
  }

  /** A refusal after decryption, as the Binary HTTP response the client reads. */
  function insideRefusal(err: RelayError, decided: DecidedTarget | undefined): BhttpResponse {
    counters.failedInside++;
    options.onRefused?.(err, decided);
    const content = new TextEncoder().encode(`${err.details}\n`);
    return {
      informational: [],
      status: err.status,
      headers: [
        { name: 'proxy-status', value: proxyStatusFor(options.proxyName, err) },
        { name: 'content-type', value: 'text/plain; charset=utf-8' },
        ...(err.retryAfterSeconds !== undefined
          ? [{ name: 'retry-after', value: String(err.retryAfterSeconds) }]
          : []),
      ],
      content,
      trailers: [],
    };
  }

  /** Step 4 and 5 for a request whose whole body is known; never throws. */
  async function perform(bhttp: Uint8Array, signal: AbortSignal): Promise<BhttpResponse> {
    let decided: DecidedTarget | undefined;
    try {
      const request = decodeRequest(bhttp, options.limits.bhttp).value;
      if (isDoh(request)) return await answerDoh(request, signal);
      decided = decideTarget(request);
      const answer = await requestTarget(options.agent, request, decided, {
        headersTimeoutMs: options.timeouts.targetHeadersMs,
        bodyTimeoutMs: options.timeouts.targetBodyMs,
        signal,
      });
      const content = await readBody(answer.body, {
        maxBytes: options.limits.maxResponseBytes,
        timeoutMs: options.timeouts.targetHeadersMs + options.timeouts.targetBodyMs,
        signal,
      }).catch((err: unknown) => {
        answer.body.destroy();
        throw err instanceof RelayError && err.code === 'content-too-large'
          ? new RelayError('connection-terminated', 'target response over the size limit')
          : err;
      });
      return {
        informational: [],
        status: answer.status,
        headers: answer.headers.filter((f) => f.name !== 'content-length'),
        content,
        trailers: [],
      };
    } catch (err) {
      return insideRefusal(toRelayError(err), decided);
    }
  }

  function isDoh(request: BhttpRequest): boolean {
    return request.authority.toLowerCase().replace(/:443$/, '') === dohAuthority;
  }

  async function answerDoh(request: BhttpRequest, signal: AbortSignal): Promise<BhttpResponse> {
    if (options.doh === undefined)
      throw new RelayError('method-not-allowed', 'this gateway serves no DoH resolver');
    counters.doh++;
    return dohResponse(await forwardDns(dohQuery(request), options.doh, signal));
  }

  async function plain(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    state: KeyState,
    signal: AbortSignal,
  ): Promise<void> {
    const body = await readBody(stream, {
      maxBytes: options.limits.maxRequestBytes,
      timeoutMs: options.timeouts.requestMs,
      declaredLength: declaredLength(headers['content-length']),
      signal,
    });
    checkKeyWindow(state, body[0]);
    const { request, context } = await state.gateway.decapsulateRequest(body);
    const response = await perform(request, signal);
    const sealed = context.encapsulateResponse(encodeResponse(response));
    if (stream.destroyed) return;
    stream.respond({ ':status': 200, 'content-type': MEDIA_TYPES.response });
    stream.end(sealed);
  }

  async function chunked(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    state: KeyState,
    signal: AbortSignal,
  ): Promise<void> {
    counters.chunked++;
    // Bounded like a plain request: the request is read whole (and its final chunk
    // authenticated) before it is performed, so a truncated request is never acted on.
    const body = await readBody(stream, {
      maxBytes: options.limits.maxRequestBytes,
      timeoutMs: options.timeouts.requestMs,
      declaredLength: declaredLength(headers['content-length']),
      signal,
    });
    checkKeyWindow(state, body[0]);
    const decoder = new ChunkedRequestDecoder(state.gateway);
    const parts = await decoder.push(body);
    parts.push(await decoder.end());
    const encoder = decoder.responseEncoder();
    const respond = (): boolean => {
      if (stream.destroyed) return false;
      if (!stream.headersSent)
        stream.respond({ ':status': 200, 'content-type': MEDIA_TYPES.chunkedResponse });
      return true;
    };
    const bhttp = Buffer.concat(parts);
    let decided: DecidedTarget | undefined;
    let answer;
    try {
      const request = decodeRequest(bhttp, options.limits.bhttp).value;
      if (isDoh(request)) {
        const response = await answerDoh(request, signal);
        if (respond()) stream.end(encoder.sealFinal(encodeResponse(response)));
        return;
      }
      decided = decideTarget(request);
      answer = await requestTarget(options.agent, request, decided, {
        headersTimeoutMs: options.timeouts.targetHeadersMs,
        bodyTimeoutMs: options.timeouts.targetBodyMs,
        signal,
      });
    } catch (err) {
      if (respond())
        stream.end(encoder.sealFinal(encodeResponse(insideRefusal(toRelayError(err), decided))));
      return;
    }
    // From here the answer streams: each piece of the target's body is one sealed chunk.
    if (!respond()) {
      answer.body.destroy();
      return;
    }
    stream.write(
      encoder.sealChunk(
        encodeIndeterminateResponseHead(
          answer.status,
          answer.headers.filter((f) => f.name !== 'content-length'),
        ),
      ),
    );
    let size = 0;
    try {
      for await (const piece of answer.body as AsyncIterable<Buffer>) {
        size += piece.length;
        if (size > options.limits.maxResponseBytes)
          throw new RelayError('connection-terminated', 'target response over the size limit');
        for (let at = 0; at < piece.length; at += MAX_CONTENT_PER_CHUNK) {
          const sealed = encoder.sealChunk(
            encodeContentChunk(piece.subarray(at, at + MAX_CONTENT_PER_CHUNK)),
          );
          if (!stream.write(sealed)) await drained(stream);
        }
      }
    } catch (err) {
      // The head already went out: no status can say it now. Resetting the stream (never a
      // clean END_STREAM, which `close(code)` would send first) leaves the client without a
      // final chunk, which its decoder reports as a failed response.
      answer.body.destroy();
      options.onRefused?.(toRelayError(err), decided);
      stream.destroy(err instanceof Error ? err : new Error('target failed'));
      return;
    }
    stream.end(encoder.sealFinal(encodeIndeterminateTail([])));
  }

  return {
    handle(stream, headers) {
      stream.on('error', () => {});
      const abort = new AbortController();
      const onClose = (): void => abort.abort();
      stream.once('close', onClose);
      const done = (): void => {
        stream.off('close', onClose);
        inFlight.delete(abort);
        active--;
      };
      active++;
      inFlight.add(abort);
      void (async () => {
        try {
          if (closed) throw new RelayError('limit-reached', 'gateway is stopping');
          if (headers[':method'] !== 'POST' || headers[':path'] !== OHTTP_GATEWAY_PATH)
            throw new RelayError('method-not-allowed', 'the gateway takes POST only');
          if (active > options.limits.maxConcurrent)
            throw new RelayError('limit-reached', 'gateway is at its request limit');
          const type = String(headers['content-type'] ?? '').toLowerCase();
          const state = keys;
          counters.requests++;
          if (type === MEDIA_TYPES.request) await plain(stream, headers, state, abort.signal);
          else if (type === MEDIA_TYPES.chunkedRequest)
            await chunked(stream, headers, state, abort.signal);
          else throw new RelayError('unsupported-media-type', 'not an OHTTP request');
        } catch (err) {
          refuse(stream, toRelayError(err));
        } finally {
          done();
        }
      })();
    },
    async setKeys(ring) {
      keys = await keyState(ring, now());
    },
    publishedKeyIds: () => publishedKeyIds(keys.ring),
    get active() {
      return active;
    },
    counters,
    async close() {
      closed = true;
      for (const abort of inFlight) abort.abort();
      await options.agent.destroy();
    },
  };
}
