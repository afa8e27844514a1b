/**
 * `ohttpFetch(input, init)`: the Fetch API through Oblivious HTTP (RFC 9458). The request is
 * encapsulated to the egress's gateway key and POSTed to the ingress's relay: the ingress
 * sees the client and an opaque body, the egress sees the request and never the client.
 *
 *   Request ─▶ Binary HTTP ─▶ encapsulate(key from the VERIFIED directory entry)
 *     ─▶ POST relay ─▶ 401 challenge? token, again ─▶ 400 unknown key? refresh directory, again
 *     ─▶ 200 message/ohttp-res ─▶ decapsulate ─▶ Binary HTTP ─▶ Response
 *
 * Keys come only from the signed directory (key consistency, RFC 9458 §7): a key list from
 * anywhere else (`init.keys`, e.g. the ingress's keys resource) is used only if every
 * configuration in it is one the signed entry lists; otherwise the request is refused before
 * anything is sent. Each request has its own HPKE context, so two requests share nothing the
 * gateway could link them by.
 */
import {
  BhttpParser,
  decodeResponse,
  encodeContentChunk,
  encodeIndeterminateRequestHead,
  encodeIndeterminateTail,
  encodeRequest,
  type Field,
} from '@splitrelay/bhttp';
import { ohttpKeysBytes, type Entry } from '@splitrelay/directory';
import { RelayError, codeFromResponse, parseProxyStatus } from '@splitrelay/errors';
import {
  DOH_AUTHORITY,
  DOH_PATH,
  MEDIA_TYPES,
  OHTTP_KEY_PROBLEM_TYPE,
  decodeKeys,
  encapsulateChunkedRequest,
  encapsulateRequest,
  encodeKeyConfig,
  type KeyConfig,
} from '@splitrelay/ohttp';
import { OHTTP_RELAY_PREFIX } from '@splitrelay/directory';
import type { IngressAddress } from '@splitrelay/outer-hop';
import { chooseEgress, type EgressPreference } from './egress-choice.ts';
import { responseOf, toBhttpRequest, toResponse } from './ohttp-message.ts';
import { RelayTransport, readAnswer, type RelayAnswer } from './ohttp-transport.ts';
import type { SessionAuthenticator } from './token-wallet.ts';

export interface OhttpClientOptions {
  readonly ingress: IngressAddress;
  /** The verified directory's entries: the only source of gateway keys. */
  readonly entries: () => ReadonlyMap<string, Entry>;
  /** Fetches and verifies the directory again (after the gateway said the key is unknown). */
  readonly refresh?: () => Promise<unknown>;
  readonly preference?: EgressPreference;
  /** Path prefix of the relay resources; the ingress's default when absent. */
  readonly relayPrefix?: string;
  /** Privacy Pass for a relay that asks (401): the same wallet as for tunnels. */
  readonly authenticator?: SessionAuthenticator;
  /** Prefer configurations of this KEM when the entry lists several (e.g. 0x647a, X-Wing). */
  readonly preferKemId?: number;
  readonly localAddress?: string;
  /** Until the relay's answer head, ms. Default 30 s. */
  readonly timeoutMs?: number;
  /** Largest encapsulated answer read (plain form), bytes. Default 16 MiB. */
  readonly maxResponseBytes?: number;
  readonly now?: () => number;
}

export interface OhttpFetchInit extends RequestInit {
  /** Chunked OHTTP (message/ohttp-chunked-req): the answer streams as it arrives. */
  readonly chunked?: boolean;
  /** `application/ohttp-keys` from elsewhere: used only if the signed entry lists them all. */
  readonly keys?: Uint8Array;
}

export interface OhttpClient {
  fetch(input: string | URL | Request, init?: OhttpFetchInit): Promise<Response>;
  /**
   * One DNS query as DoH (RFC 8484) to the gateway's resolver: the answer's bytes. Send it
   * with ID 0 (RFC 8484 §4.1) so that nothing in the message links it to the next one.
   */
  dns(
    query: Uint8Array,
    options?: { authority?: string; signal?: AbortSignal },
  ): Promise<Uint8Array>;
  close(): void;
}

const encoded = (c: KeyConfig): string => Buffer.from(encodeKeyConfig(c)).toString('hex');

/** The entry's configurations this client can use, in the entry's order. */
export function entryKeyConfigs(entry: Entry): KeyConfig[] {
  if (entry.ohttpKeys === undefined) return [];
  return decodeKeys(ohttpKeysBytes(entry.ohttpKeys)).value;
}

/**
 * Key configurations offered from outside the directory, kept only if the signed entry lists
 * each one byte for byte: a relay (or anyone) handing out a key of its own could tag the
 * client's requests.
 */
export function checkKeysAgainstEntry(keys: Uint8Array, entry: Entry): KeyConfig[] {
  const signed = new Set(entryKeyConfigs(entry).map(encoded));
  const offered = decodeKeys(keys).value;
  if (offered.length === 0 || offered.some((c) => !signed.has(encoded(c))))
    throw new RelayError('pin-mismatch', 'a key configuration is not in the signed directory');
  return offered;
}

export function createOhttpClient(options: OhttpClientOptions): OhttpClient {
  const transport = new RelayTransport({
    ingress: options.ingress,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  const maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const prefix = options.relayPrefix ?? OHTTP_RELAY_PREFIX;

  function gatewayEntry(): Entry {
    const withGateway = new Map(
      [...options.entries()].filter(([, e]) => e.ohttpKeys !== undefined),
    );
    return chooseEgress(withGateway, options.preference ?? {}, now());
  }

  function chooseConfig(configs: readonly KeyConfig[]): KeyConfig {
    const preferred = configs.find((c) => c.kemId === options.preferKemId);
    const config = preferred ?? configs[0];
    if (config === undefined)
      throw new RelayError('unknown-egress', 'the egress lists no usable gateway key');
    return config;
  }

  async function fetch(
    input: string | URL | Request,
    init: OhttpFetchInit = {},
  ): Promise<Response> {
    const { chunked, keys, ...requestInit } = init;
    const request = new Request(input, requestInit);
    const bhttp = await toBhttpRequest(request);
    let refreshed = false;
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = gatewayEntry();
      const config = chooseConfig(
        keys !== undefined ? checkKeysAgainstEntry(keys, entry) : entryKeyConfigs(entry),
      );
      const answer = chunked
        ? await sendChunked(entry.id, config, bhttp, request.signal)
        : await sendPlain(entry.id, config, bhttp, request.signal);
      if (answer.kind === 'response') return answer.response;
      // The gateway no longer holds this key (rotated): the directory names the new one.
      if (answer.kind === 'unknown-key' && options.refresh && !refreshed) {
        refreshed = true;
        await options.refresh();
        continue;
      }
      throw answer.error;
    }
    throw new RelayError('egress-unavailable', 'no answer from the gateway');
  }

  type Outcome =
    | { kind: 'response'; response: Response }
    | { kind: 'unknown-key'; error: RelayError }
    | { kind: 'refused'; error: RelayError };

  /** POSTs to the relay, once more with a token if it asks for one (401). */
  async function post(
    egressId: string,
    type: string,
    body: Uint8Array,
    signal: AbortSignal,
  ): Promise<RelayAnswer> {
    const auth = options.authenticator;
    for (let attempt = 0; ; attempt++) {
      const authorization = attempt === 0 ? undefined : await auth?.authorization();
      const answer = await transport.post(
        `${prefix}${egressId}`,
        {
          'content-type': type,
          'content-length': body.length,
          ...(authorization ? { authorization } : {}),
        },
        body,
        signal,
      );
      const challenge = answer.headers['www-authenticate'];
      if (answer.status !== 401 || auth === undefined || attempt >= 1 || challenge === undefined)
        return answer;
      answer.body.resume();
      auth.challenged(String(challenge));
    }
  }

  /** An answer that is not the gateway's encapsulated one, as the refusal it is. */
  async function refusal(answer: RelayAnswer): Promise<Outcome> {
    const text = (await readAnswer(answer.body, 64 * 1024).catch(() => Buffer.alloc(0))).toString();
    if (answer.status === 400 && answer.headers['content-type'] === 'application/problem+json') {
      let type: unknown;
      try {
        type = (JSON.parse(text) as { type?: unknown }).type;
      } catch {
        type = undefined;
      }
      if (type === OHTTP_KEY_PROBLEM_TYPE)
        return {
          kind: 'unknown-key',
          error: new RelayError('malformed-request', 'the gateway does not know this key'),
        };
    }
    const member = parseProxyStatus(String(answer.headers['proxy-status'] ?? ''))[0];
    const retryAfter = Number(answer.headers['retry-after']);
    return {
      kind: 'refused',
      error: new RelayError(
        codeFromResponse(answer.status, member?.error),
        member?.details ?? `relay answered ${answer.status}`,
        {
          ...(Number.isInteger(retryAfter) && retryAfter >= 0
            ? { retryAfterSeconds: retryAfter }
            : {}),
          ...(answer.headers['www-authenticate'] !== undefined
            ? { headers: { 'www-authenticate': String(answer.headers['www-authenticate']) } }
            : {}),
        },
      ),
    };
  }

  async function sendPlain(
    egressId: string,
    config: KeyConfig,
    request: Awaited<ReturnType<typeof toBhttpRequest>>,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const { encapsulatedRequest, context } = await encapsulateRequest(
      config,
      encodeRequest(request),
    );
    const answer = await post(egressId, MEDIA_TYPES.request, encapsulatedRequest, signal);
    if (answer.status !== 200 || answer.headers['content-type'] !== MEDIA_TYPES.response)
      return refusal(answer);
    const sealed = await readAnswer(answer.body, maxResponseBytes);
    const response = decodeResponse(context.decapsulateResponse(sealed)).value;
    return { kind: 'response', response: toResponse(response, urlOf(request)) };
  }

  async function sendChunked(
    egressId: string,
    config: KeyConfig,
    request: Awaited<ReturnType<typeof toBhttpRequest>>,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const writer = await encapsulateChunkedRequest(config);
    const { content, trailers, headers, ...control } = request;
    const pieces = [
      writer.header,
      await writer.sealChunk(encodeIndeterminateRequestHead(control, headers)),
      ...(content.length > 0 ? [await writer.sealChunk(encodeContentChunk(content))] : []),
      await writer.sealFinal(encodeIndeterminateTail(trailers)),
    ];
    const answer = await post(egressId, MEDIA_TYPES.chunkedRequest, Buffer.concat(pieces), signal);
    if (answer.status !== 200 || answer.headers['content-type'] !== MEDIA_TYPES.chunkedResponse)
      return refusal(answer);
    return {
      kind: 'response',
      response: await streamedResponse(writer.responseDecoder(), answer, urlOf(request)),
    };
  }

  async function dns(
    query: Uint8Array,
    dnsOptions: { authority?: string; signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    const res = await fetch(`https://${dnsOptions.authority ?? DOH_AUTHORITY}${DOH_PATH}`, {
      method: 'POST',
      // Exactly these fields, the same on every query: nothing to tell two clients apart by.
      headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
      body: query,
      ...(dnsOptions.signal ? { signal: dnsOptions.signal } : {}),
    });
    const answer = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200)
      throw new RelayError(
        codeFromResponse(
          res.status,
          parseProxyStatus(res.headers.get('proxy-status') ?? '')[0]?.error,
        ),
        `DoH answered ${res.status}`,
      );
    return answer;
  }

  return {
    fetch,
    dns,
    close: () => transport.close(),
  };
}

const urlOf = (r: { scheme: string; authority: string; path: string }): string =>
  `${r.scheme}://${r.authority}${r.path}`;

/**
 * The chunked answer as a Response whose body streams: the head resolves the promise, each
 * content piece is enqueued as its chunk opens, and a cut-off answer (no authenticated final
 * chunk) errors the body rather than ending it.
 */
function streamedResponse(
  decoder: ReturnType<Awaited<ReturnType<typeof encapsulateChunkedRequest>>['responseDecoder']>,
  answer: RelayAnswer,
  url: string,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let head: { status: number; headers: readonly Field[] } | undefined;
    let settled = false;
    let finished = false;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
      cancel: () => {
        answer.body.destroy();
      },
    });
    const parser = new BhttpParser({
      kind: 'response',
      onEvent(e) {
        if (e.type === 'response-head') {
          head = { status: e.status, headers: e.headers };
          settled = true;
          resolve(responseOf(head.status, head.headers, body, url));
        } else if (e.type === 'content') controller?.enqueue(e.chunk.slice());
      },
    });
    const fail = (err: unknown): void => {
      if (finished) return;
      finished = true;
      answer.body.destroy();
      if (!settled) {
        settled = true;
        reject(err);
      } else controller?.error(err);
    };
    answer.body.on('data', (piece: Buffer) => {
      try {
        for (const pt of decoder.push(piece)) parser.push(pt);
      } catch (err) {
        fail(err);
      }
    });
    answer.body.once('end', () => {
      try {
        if (!answer.body.complete)
          throw new RelayError('connection-terminated', 'the answer was cut off');
        parser.push(decoder.end());
        parser.end();
        if (!settled) throw new RelayError('connection-terminated', 'the answer had no head');
        finished = true;
        controller?.close();
      } catch (err) {
        fail(err);
      }
    });
    answer.body.once('error', fail);
    answer.body.once('close', () => {
      if (!answer.body.complete)
        fail(new RelayError('connection-terminated', 'the answer was cut off'));
    });
  });
}
