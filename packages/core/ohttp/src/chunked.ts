/**
 * Chunked Oblivious HTTP, draft-ietf-ohai-chunked-ohttp
 * (https://datatracker.ietf.org/doc/draft-ietf-ohai-chunked-ohttp/), media types
 * message/ohttp-chunked-req and message/ohttp-chunked-res.
 *
 *   Chunked Encapsulated Request {          Chunked Encapsulated Response {
 *     Chunked Request Header (56 + 8*Nenc),   Response Nonce (8 * max(Nn, Nk)),
 *     Non-Final Request Chunk (..) ...,       Non-Final Response Chunk (..) ...,
 *     Final Request Chunk Indicator (i) = 0,  Final Response Chunk Indicator (i) = 0,
 *     HPKE-Protected Final Chunk (..),        AEAD-Protected Final Response Chunk (..),
 *   }                                       }
 *   Non-Final Chunk { Length (i) = 1.., Protected Chunk (..) }
 *
 *   request:  info = "message/bhttp chunked request" || 0x00 || hdr; each chunk is
 *             sctxt.Seal(aad, chunk), aad = "" or "final" for the last (HPKE numbers them)
 *   response: secret = Export("message/bhttp chunked response", max(Nn, Nk)), then key and
 *             nonce as in RFC 9458 §4.4; chunk i is Seal(key, nonce XOR i, aad, chunk)
 *
 * The final chunk runs to the end of the content, so it is held until `end()`; a non-final
 * chunk with an empty plaintext is a decryption error (§6). Every decoder is a state machine
 * fed arbitrary pieces; it holds back at most one chunk (bounded by `maxChunkBytes`), so a
 * large message streams through without being buffered whole. The request side is async
 * (HPKE contexts are); the response side is synchronous.
 */
import { decodeVarint, encodeVarint } from '@splitrelay/connect-udp';
import type { HpkeSuite } from '@splitrelay/hpke';
import { setupClient, type ClientOptions } from './client.ts';
import { OhttpError } from './errors.ts';
import type { Gateway, OpenedContext } from './gateway.ts';
import {
  ascii,
  CHUNKED_BHTTP_LABELS,
  HEADER_LENGTH,
  responseKeys,
  responseNonceLength,
} from './header.ts';
import type { KeyConfig } from './key-config.ts';

/** Ciphertext bytes of one chunk a decoder accepts. The draft's floor is 2^14 of plaintext. */
export const DEFAULT_MAX_CHUNK_BYTES = 65536;

const EMPTY = new Uint8Array(0);
const FINAL = ascii('final');

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function frame(ct: Uint8Array, final: boolean): Uint8Array {
  return concat(encodeVarint(final ? 0 : ct.length), ct);
}

/** chunk_nonce = aead_nonce XOR encode(Nn, counter). */
function chunkNonce(base: Uint8Array, counter: number): Uint8Array {
  const nonce = base.slice();
  let c = counter;
  for (let i = nonce.length - 1; i >= 0 && c > 0; i--) {
    nonce[i] = (nonce[i] as number) ^ (c & 0xff);
    c = Math.floor(c / 256);
  }
  return nonce;
}

/**
 * Splits a stream of non-final chunks and a final chunk out of pushed bytes: the framing only,
 * no crypto. `take()` returns the next complete non-final chunk, or undefined.
 */
class ChunkFramer {
  #buf: Uint8Array = EMPTY;
  #final = false;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get inFinal(): boolean {
    return this.#final;
  }

  push(bytes: Uint8Array): void {
    // A copy either way: the caller may reuse its buffer once push returns.
    this.#buf = this.#buf.length === 0 ? bytes.slice() : concat(this.#buf, bytes);
    if (this.#final && this.#buf.length > this.#max) throw new OhttpError('too-large');
  }

  take(): Uint8Array | undefined {
    if (this.#final) return undefined;
    const d = decodeVarint(this.#buf, 0);
    if (!d.ok) return undefined;
    if (typeof d.value === 'bigint' || d.value > this.#max) throw new OhttpError('too-large');
    if (d.value === 0) {
      this.#final = true;
      this.#buf = this.#buf.slice(d.bytesRead);
      if (this.#buf.length > this.#max) throw new OhttpError('too-large');
      return undefined;
    }
    if (this.#buf.length < d.bytesRead + d.value) return undefined;
    const chunk = this.#buf.slice(d.bytesRead, d.bytesRead + d.value);
    this.#buf = this.#buf.subarray(d.bytesRead + d.value);
    return chunk;
  }

  /** The final chunk's ciphertext; 'decrypt-failed' if the stream never marked one. */
  finalChunk(): Uint8Array {
    if (!this.#final) throw new OhttpError('decrypt-failed');
    return this.#buf;
  }
}

// ----- Client: request writer, response decoder -----

export interface ChunkedRequestWriter {
  /** Chunked Request Header: hdr || enc. Send it first. */
  readonly header: Uint8Array;
  /** A non-final chunk, framed; `chunk` must not be empty. */
  sealChunk(chunk: Uint8Array): Promise<Uint8Array>;
  /** The final chunk (may be empty), framed with the 0 indicator. */
  sealFinal(chunk?: Uint8Array): Promise<Uint8Array>;
  /** A decoder for the response to this request. */
  responseDecoder(options?: { maxChunkBytes?: number }): ChunkedResponseDecoder;
}

export async function encapsulateChunkedRequest(
  config: KeyConfig,
  options: ClientOptions = {},
): Promise<ChunkedRequestWriter> {
  const { suite, hdr, enc, context, secret } = await setupClient(
    config,
    options.labels ?? CHUNKED_BHTTP_LABELS,
    options,
  );
  let finished = false;
  return Object.freeze({
    header: concat(hdr, enc),
    async sealChunk(chunk: Uint8Array) {
      if (finished) throw new Error('the final chunk was already sealed');
      if (chunk.length === 0) throw new RangeError('a non-final chunk must not be empty');
      return frame(await context.seal(chunk), false);
    },
    async sealFinal(chunk: Uint8Array = EMPTY) {
      if (finished) throw new Error('the final chunk was already sealed');
      finished = true;
      return frame(await context.seal(chunk, FINAL), true);
    },
    responseDecoder(o?: { maxChunkBytes?: number }) {
      return new ChunkedResponseDecoder(suite, enc, secret, o?.maxChunkBytes);
    },
  });
}

/** Client side of a chunked response: push pieces, get plaintext chunks back. Synchronous. */
export class ChunkedResponseDecoder {
  readonly #suite: HpkeSuite;
  readonly #enc: Uint8Array;
  readonly #secret: Uint8Array;
  readonly #framer: ChunkFramer;
  #nonceBuf: Uint8Array = EMPTY;
  #keys: { key: Uint8Array; nonce: Uint8Array } | undefined;
  #counter = 0;
  #failure: { readonly error: unknown } | undefined;
  #done = false;

  constructor(
    suite: HpkeSuite,
    enc: Uint8Array,
    secret: Uint8Array,
    maxChunkBytes = DEFAULT_MAX_CHUNK_BYTES,
  ) {
    this.#suite = suite;
    this.#enc = enc;
    this.#secret = secret;
    this.#framer = new ChunkFramer(maxChunkBytes);
  }

  /** Plaintext of every non-final chunk completed by `bytes` (each non-empty). */
  push(bytes: Uint8Array): Uint8Array[] {
    return this.#guard(() => {
      if (this.#done) throw new OhttpError('malformed');
      let rest = bytes;
      if (this.#keys === undefined) {
        const n = responseNonceLength(this.#suite);
        const need = n - this.#nonceBuf.length;
        this.#nonceBuf = concat(this.#nonceBuf, rest.slice(0, need));
        rest = rest.subarray(Math.min(need, rest.length));
        if (this.#nonceBuf.length < n) return [];
        this.#keys = responseKeys(this.#suite, this.#secret, this.#enc, this.#nonceBuf);
      }
      this.#framer.push(rest);
      const out: Uint8Array[] = [];
      for (let ct = this.#framer.take(); ct !== undefined; ct = this.#framer.take()) {
        const pt = this.#open(ct, EMPTY);
        if (pt.length === 0) throw new OhttpError('decrypt-failed');
        out.push(pt);
      }
      return out;
    });
  }

  /** The end of the content: opens the final chunk (AAD "final") and returns its plaintext. */
  end(): Uint8Array {
    return this.#guard(() => {
      if (this.#keys === undefined) throw new OhttpError('decrypt-failed');
      const pt = this.#open(this.#framer.finalChunk(), FINAL);
      this.#done = true;
      return pt;
    });
  }

  #open(ct: Uint8Array, aad: Uint8Array): Uint8Array {
    const keys = this.#keys as { key: Uint8Array; nonce: Uint8Array };
    try {
      return this.#suite.aead.open(keys.key, chunkNonce(keys.nonce, this.#counter++), aad, ct);
    } catch (cause) {
      throw new OhttpError('decrypt-failed', { cause });
    }
  }

  #guard<T>(fn: () => T): T {
    if (this.#failure) throw this.#failure.error;
    try {
      return fn();
    } catch (error) {
      this.#failure = { error };
      throw error;
    }
  }
}

// ----- Gateway: request decoder, response encoder -----

export interface ChunkedDecoderOptions {
  readonly maxChunkBytes?: number;
}

/**
 * Gateway side of a chunked request. `push` resolves to the plaintext of the chunks each
 * piece completed; `end` to the final chunk's. Calls must not overlap (await each one).
 * Errors: 'unknown-key' once the header is read (answer as RFC 9458 §5.3 says), then only
 * 'decrypt-failed' or 'too-large'.
 */
export class ChunkedRequestDecoder {
  readonly #gateway: Gateway;
  readonly #framer: ChunkFramer;
  #head: Uint8Array = EMPTY;
  #opened: OpenedContext | undefined;
  #enc: Uint8Array = EMPTY;
  #busy = false;
  #failure: { readonly error: unknown } | undefined;
  #done = false;
  #encoder: ChunkedResponseEncoder | undefined;

  constructor(gateway: Gateway, options: ChunkedDecoderOptions = {}) {
    this.#gateway = gateway;
    this.#framer = new ChunkFramer(options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES);
  }

  /** True once the final chunk opened: the request is complete and authentic. */
  get complete(): boolean {
    return this.#done;
  }

  push(bytes: Uint8Array): Promise<Uint8Array[]> {
    return this.#guard(async () => {
      if (this.#done) throw new OhttpError('malformed');
      let rest = bytes;
      if (this.#opened === undefined) {
        this.#head = this.#head.length === 0 ? rest.slice() : concat(this.#head, rest);
        if (this.#head.length < HEADER_LENGTH) return [];
        const nenc = this.#gateway.encLength(this.#head.subarray(0, HEADER_LENGTH));
        if (this.#head.length < HEADER_LENGTH + nenc) return [];
        const hdr = this.#head.slice(0, HEADER_LENGTH);
        this.#enc = this.#head.slice(HEADER_LENGTH, HEADER_LENGTH + nenc);
        rest = this.#head.subarray(HEADER_LENGTH + nenc);
        this.#head = EMPTY;
        this.#opened = await this.#gateway.openContext(hdr, this.#enc, CHUNKED_BHTTP_LABELS);
      }
      this.#framer.push(rest);
      const out: Uint8Array[] = [];
      for (let ct = this.#framer.take(); ct !== undefined; ct = this.#framer.take()) {
        const pt = await this.#opened.open(ct);
        if (pt.length === 0) throw new OhttpError('decrypt-failed');
        out.push(pt);
      }
      return out;
    });
  }

  end(): Promise<Uint8Array> {
    return this.#guard(async () => {
      if (this.#opened === undefined) throw new OhttpError('malformed');
      const pt = await this.#opened.open(this.#framer.finalChunk(), FINAL);
      this.#done = true;
      return pt;
    });
  }

  /** The response side, available once the header has been processed; one per request. */
  responseEncoder(): ChunkedResponseEncoder {
    if (this.#opened === undefined) throw new Error('the request header has not been read');
    this.#encoder ??= new ChunkedResponseEncoder(
      this.#opened.suite,
      this.#enc,
      this.#opened.secret,
      this.#gateway.rng(responseNonceLength(this.#opened.suite)),
    );
    return this.#encoder;
  }

  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#failure) throw this.#failure.error;
    if (this.#busy) throw new Error('ChunkedRequestDecoder calls must not overlap');
    this.#busy = true;
    try {
      return await fn();
    } catch (error) {
      this.#failure = { error };
      throw error;
    } finally {
      this.#busy = false;
    }
  }
}

/** Gateway side of a chunked response. Synchronous; the first output carries the nonce. */
export class ChunkedResponseEncoder {
  readonly #suite: HpkeSuite;
  readonly #responseNonce: Uint8Array;
  readonly #key: Uint8Array;
  readonly #nonce: Uint8Array;
  #counter = 0;
  #started = false;
  #finished = false;

  constructor(suite: HpkeSuite, enc: Uint8Array, secret: Uint8Array, responseNonce: Uint8Array) {
    this.#suite = suite;
    this.#responseNonce = responseNonce;
    const { key, nonce } = responseKeys(suite, secret, enc, responseNonce);
    this.#key = key;
    this.#nonce = nonce;
  }

  sealChunk(chunk: Uint8Array): Uint8Array {
    if (chunk.length === 0) throw new RangeError('a non-final chunk must not be empty');
    return this.#seal(chunk, false);
  }

  sealFinal(chunk: Uint8Array = EMPTY): Uint8Array {
    return this.#seal(chunk, true);
  }

  #seal(chunk: Uint8Array, final: boolean): Uint8Array {
    if (this.#finished) throw new Error('the final chunk was already sealed');
    // The nonce's bytes are XORed with a counter of Nn bytes; 2^53 chunks is far below 256^12.
    const ct = this.#suite.aead.seal(
      this.#key,
      chunkNonce(this.#nonce, this.#counter++),
      final ? FINAL : EMPTY,
      chunk,
    );
    this.#finished = final;
    const framed = frame(ct, final);
    if (this.#started) return framed;
    this.#started = true;
    return concat(this.#responseNonce, framed);
  }
}
