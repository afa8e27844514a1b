/**
 * The issuer's HTTP surface (HTTP/2 and HTTP/1.1, compatibility API):
 *
 *   GET  /.well-known/private-token-issuer-directory   RFC 9578 §4 directory
 *   POST /token-request                                 RFC 9578 §6, single or batch
 *
 * A token request goes through, in order: attester (401), the subscriber's rate (429),
 * Content-Type (415), body size (413), decoding and key (400), then one more rate check now
 * that the token count is known, and issuance. A bad request gets its reason in the body and
 * never reaches past its own response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { MEDIA_TYPES, type IssuerKey } from '@splitrelay/privacy-pass';
import type { Attester } from './attester.ts';
import { issueAll, parseTokenRequests, requestForm, responseMediaType } from './issuance.ts';
import {
  ISSUER_DIRECTORY_PATH,
  TOKEN_REQUEST_PATH,
  type IssuerKeySet,
} from '@splitrelay/privacy-pass';
import type { WindowQuota } from '@splitrelay/abuse-limits';
import { Refusal, type RefusalCode } from './refusal.ts';

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/** A slow sender does not hold a request open for longer than this. */
export const BODY_TIMEOUT_MS = 10_000;

export interface HandlerDeps {
  readonly keys: () => IssuerKeySet;
  readonly attester: () => Attester;
  readonly limiter: WindowQuota;
  readonly maxRequestBytes: number;
  readonly maxBatch: number;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly onIssued: (count: number) => void;
  /** Every refusal, with the subscriber only once attested (the only identity logged). */
  readonly onRefused: (code: RefusalCode, subscriber?: string, first?: boolean) => void;
}

function headerValue(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(
  req: Request,
  res: Response,
  status: number,
  headers: Record<string, string>,
  body: Uint8Array | string,
): void {
  // Both response kinds have these two; their overloads only differ in what is not used here.
  const out = res as unknown as {
    writeHead(status: number, headers: Record<string, string>): unknown;
    end(data?: Uint8Array): unknown;
  };
  if (res.headersSent || res.writableEnded) return;
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  out.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
  out.end(req.method === 'HEAD' ? undefined : bytes);
}

function refuse(req: Request, res: Response, refusal: Refusal): void {
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
  };
  if (refusal.code === 'unauthorized')
    headers['www-authenticate'] = 'Bearer realm="splitrelay-issuer"';
  if (refusal.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(refusal.retryAfterSeconds);
  if (refusal.code === 'method-not-allowed') {
    headers['allow'] = req.url?.startsWith(TOKEN_REQUEST_PATH) ? 'POST' : 'GET, HEAD';
  }
  const unread = !req.complete;
  // HTTP/1.1 with a body left unread: the connection cannot be reused, say so and close it.
  if (unread && req.httpVersionMajor === 1) headers['connection'] = 'close';
  send(req, res, refusal.status, headers, refusal.body);
  if (unread && 'stream' in req) {
    // HTTP/2: the response is complete, the rest of the body is not wanted (RFC 9113 §8.1).
    const stream = req.stream;
    res.once('finish', () => {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
  }
}

/** The body, at most `max` bytes (413 as soon as it is exceeded, declared or sent). */
function readBody(req: Request, max: number): Promise<Buffer> {
  const declared = headerValue(req, 'content-length');
  if (declared !== undefined && Number(declared) > max) {
    return Promise.reject(new Refusal('too-large', `the body is over ${max} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      finish();
      reject(new Refusal('malformed', `the body did not arrive within ${BODY_TIMEOUT_MS} ms`));
    }, BODY_TIMEOUT_MS);
    const finish = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        finish();
        req.pause();
        reject(new Refusal('too-large', `the body is over ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      finish();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (): void => {
      finish();
      reject(new Refusal('malformed', 'the request was aborted'));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('aborted', onError);
  });
}

export function createHandler(deps: HandlerDeps): (req: Request, res: Response) => void {
  const directory = (req: Request, res: Response): void => {
    const nowSeconds = Math.floor(deps.now() / 1000);
    const keys = deps.keys();
    const body = `${JSON.stringify(keys.directory(nowSeconds))}\n`;
    send(
      req,
      res,
      200,
      {
        'content-type': MEDIA_TYPES.directory,
        'cache-control': `public, max-age=${keys.directoryMaxAge(nowSeconds)}`,
      },
      body,
    );
  };

  const tokenRequest = async (req: Request, res: Response): Promise<void> => {
    const attestation = await deps.attester().attest(headerValue(req, 'authorization'));
    if (attestation === undefined) {
      deps.onRefused('unauthorized');
      throw new Refusal('unauthorized', 'a valid Bearer credential is required');
    }
    const { subscriber } = attestation;
    const refuseAs = (refusal: Refusal, first?: boolean): never => {
      deps.onRefused(refusal.code, subscriber, first);
      throw refusal;
    };
    const rate = deps.limiter.check(subscriber, deps.now());
    if (!rate.ok) {
      refuseAs(
        new Refusal('rate-limited', 'token limit reached for this hour', rate.retryAfterSeconds),
        rate.first,
      );
    }
    const form = requestForm(headerValue(req, 'content-type'));
    if (form === undefined) {
      refuseAs(
        new Refusal(
          'unsupported-media-type',
          `send ${MEDIA_TYPES.request} or ${MEDIA_TYPES.request}-batch`,
        ),
      );
    }
    let body: Buffer;
    try {
      body = await readBody(req, deps.maxRequestBytes);
    } catch (err) {
      return refuseAs(err as Refusal);
    }
    const nowSeconds = Math.floor(deps.now() / 1000);
    const keys: IssuerKey[] = deps
      .keys()
      .validAt(nowSeconds)
      .map((k) => k.key);
    if (keys.length === 0) refuseAs(new Refusal('no-key', 'no token key issues now'));
    let requests: Uint8Array[];
    try {
      requests = parseTokenRequests(body, form!, deps.maxBatch, keys);
    } catch (err) {
      return refuseAs(err instanceof Refusal ? err : new Refusal('malformed', 'malformed request'));
    }
    const taken = deps.limiter.take(subscriber, deps.now(), requests.length);
    if (!taken.ok) {
      refuseAs(
        new Refusal(
          'rate-limited',
          `${requests.length} tokens would exceed this hour's limit`,
          taken.retryAfterSeconds,
        ),
        taken.first,
      );
    }
    let response: Uint8Array;
    try {
      response = await issueAll(requests, form!, keys);
    } catch (err) {
      deps.limiter.refund(subscriber, requests.length);
      return refuseAs(err instanceof Refusal ? err : new Refusal('internal', 'issuance failed'));
    }
    deps.onIssued(requests.length);
    send(
      req,
      res,
      200,
      { 'content-type': responseMediaType(form!), 'cache-control': 'no-store' },
      response,
    );
  };

  const route = (req: Request, res: Response): Promise<void> | void => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path === ISSUER_DIRECTORY_PATH) {
      if (req.method === 'GET' || req.method === 'HEAD') return directory(req, res);
      deps.onRefused('method-not-allowed');
      throw new Refusal('method-not-allowed', 'use GET');
    }
    if (path === TOKEN_REQUEST_PATH) {
      if (req.method === 'POST') return tokenRequest(req, res);
      deps.onRefused('method-not-allowed');
      throw new Refusal('method-not-allowed', 'use POST');
    }
    deps.onRefused('not-found');
    throw new Refusal('not-found', 'no such resource');
  };

  return (req, res) => {
    // A stream or socket error belongs to this request alone.
    req.on('error', () => {});
    res.on('error', () => {});
    void (async () => route(req, res))().catch((err: unknown) => {
      if (!(err instanceof Refusal)) deps.onRefused('internal');
      refuse(req, res, err instanceof Refusal ? err : new Refusal('internal', 'internal error'));
    });
  };
}
