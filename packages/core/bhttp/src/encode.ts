/**
 * Binary HTTP encoders, RFC 9292 (https://www.rfc-editor.org/rfc/rfc9292). All integers are
 * QUIC varints (RFC 9000 §16), written minimally.
 *
 *   Known-Length Request {                 Known-Length Response {
 *     Framing Indicator (i) = 0,             Framing Indicator (i) = 1,
 *     Request Control Data (..),             Known-Length Informational Response (..) ...,
 *     Known-Length Field Section (..),       Final Response Control Data (..),
 *     Known-Length Content (..),             Known-Length Field Section (..),
 *     Known-Length Field Section (..),       Known-Length Content (..),
 *     Padding (..),                          Known-Length Field Section (..),
 *   }                                        Padding (..),
 *                                          }
 *   Request Control Data {                 Known-Length Field Section {
 *     Method Length (i), Method (..),        Length (i), Field Line (..) ...,
 *     Scheme Length (i), Scheme (..),      }
 *     Authority Length (i), Authority (..),Known-Length Content { Content Length (i), Content (..) }
 *     Path Length (i), Path (..),          Field Line { Name Length (i) = 1.., Name (..),
 *   }                                                   Value Length (i), Value (..) }
 *
 *   Indeterminate-Length (framing 2 request, 3 response): each field section is field lines
 *   ended by a 0; content is chunks { Chunk Length (i) = 1.., Chunk (..) } ended by a 0.
 *   Final Response Control Data { Status Code (i) = 200..599 }; informational ones are
 *   100..199 followed by their own header section (§3.5.1). Padding is zero bytes (§3.8).
 *
 * §3.1/§3.2 allow dropping trailing empty parts; `truncate: true` does that for the content and
 * trailers when both are empty. Encoders check what they write (field validity, status
 * ranges) and throw `BhttpError` for values no valid message could carry.
 */
import { varintLength, writeVarint } from '@splitrelay/connect-udp';
import {
  checkField,
  checkRequestControl,
  checkStatus,
  latin1Bytes,
  type BhttpRequest,
  type BhttpResponse,
  type Field,
  type Framing,
  type InformationalResponse,
  type RequestControl,
} from './message.ts';

export const FRAMING_KNOWN_REQUEST = 0;
export const FRAMING_KNOWN_RESPONSE = 1;
export const FRAMING_INDETERMINATE_REQUEST = 2;
export const FRAMING_INDETERMINATE_RESPONSE = 3;

export interface EncodeOptions {
  /** Default 'known-length'. */
  readonly framing?: Framing;
  /** Zero bytes to append (§3.8). Default 0. */
  readonly padding?: number;
  /** Leave out empty content and trailers at the end (§3.1). Default false. */
  readonly truncate?: boolean;
}

/** Collects parts and writes them into one buffer at the end. */
class Writer {
  readonly parts: Uint8Array[] = [];
  length = 0;

  varint(n: number): void {
    const out = new Uint8Array(varintLength(n));
    writeVarint(out, 0, n);
    this.bytes(out);
  }
  bytes(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
  prefixed(b: Uint8Array): void {
    this.varint(b.length);
    this.bytes(b);
  }
  finish(padding = 0): Uint8Array {
    if (!Number.isSafeInteger(padding) || padding < 0) throw new RangeError('padding must be >= 0');
    const out = new Uint8Array(this.length + padding);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function fieldLines(fields: readonly Field[]): Writer {
  const w = new Writer();
  for (const { name, value } of fields) {
    checkField(name, value);
    w.prefixed(latin1Bytes(name));
    w.prefixed(latin1Bytes(value));
  }
  return w;
}

function fieldSection(w: Writer, fields: readonly Field[], framing: Framing): void {
  const lines = fieldLines(fields);
  if (framing === 'known-length') w.varint(lines.length);
  for (const p of lines.parts) w.bytes(p);
  if (framing === 'indeterminate') w.varint(0);
}

function requestControl(w: Writer, c: RequestControl): void {
  checkRequestControl(c);
  for (const s of [c.method, c.scheme, c.authority, c.path]) w.prefixed(latin1Bytes(s));
}

function tail(
  w: Writer,
  content: Uint8Array,
  trailers: readonly Field[],
  framing: Framing,
  truncate: boolean,
): void {
  if (truncate && content.length === 0 && trailers.length === 0) return;
  if (framing === 'known-length') {
    w.prefixed(content);
  } else {
    if (content.length > 0) w.prefixed(content);
    w.varint(0);
  }
  if (truncate && trailers.length === 0) return;
  fieldSection(w, trailers, framing);
}

export function encodeRequest(request: BhttpRequest, options: EncodeOptions = {}): Uint8Array {
  const framing = options.framing ?? 'known-length';
  const w = new Writer();
  w.varint(framing === 'known-length' ? FRAMING_KNOWN_REQUEST : FRAMING_INDETERMINATE_REQUEST);
  requestControl(w, request);
  fieldSection(w, request.headers, framing);
  tail(w, request.content, request.trailers, framing, options.truncate ?? false);
  return w.finish(options.padding);
}

function informationalParts(
  w: Writer,
  informational: readonly InformationalResponse[],
  framing: Framing,
): void {
  for (const info of informational) {
    checkStatus(info.status, true);
    w.varint(info.status);
    fieldSection(w, info.headers, framing);
  }
}

export function encodeResponse(response: BhttpResponse, options: EncodeOptions = {}): Uint8Array {
  const framing = options.framing ?? 'known-length';
  const w = new Writer();
  w.varint(framing === 'known-length' ? FRAMING_KNOWN_RESPONSE : FRAMING_INDETERMINATE_RESPONSE);
  informationalParts(w, response.informational, framing);
  checkStatus(response.status, false);
  w.varint(response.status);
  fieldSection(w, response.headers, framing);
  tail(w, response.content, response.trailers, framing, options.truncate ?? false);
  return w.finish(options.padding);
}

/*
 * Streaming writers for the indeterminate-length form, for a gateway that relays a response
 * as it arrives (e.g. into chunked OHTTP): head, then any number of content chunks, then the
 * tail. Concatenated they equal `encodeResponse(..., { framing: 'indeterminate' })`.
 */

export function encodeIndeterminateRequestHead(
  control: RequestControl,
  headers: readonly Field[],
): Uint8Array {
  const w = new Writer();
  w.varint(FRAMING_INDETERMINATE_REQUEST);
  requestControl(w, control);
  fieldSection(w, headers, 'indeterminate');
  return w.finish();
}

export function encodeIndeterminateResponseHead(
  status: number,
  headers: readonly Field[],
  informational: readonly InformationalResponse[] = [],
): Uint8Array {
  const w = new Writer();
  w.varint(FRAMING_INDETERMINATE_RESPONSE);
  informationalParts(w, informational, 'indeterminate');
  checkStatus(status, false);
  w.varint(status);
  fieldSection(w, headers, 'indeterminate');
  return w.finish();
}

/** One content chunk; an empty chunk encodes to nothing (a zero length would end the content). */
export function encodeContentChunk(chunk: Uint8Array): Uint8Array {
  if (chunk.length === 0) return new Uint8Array(0);
  const w = new Writer();
  w.prefixed(chunk);
  return w.finish();
}

/** The content terminator, the trailer section and optional padding. */
export function encodeIndeterminateTail(trailers: readonly Field[] = [], padding = 0): Uint8Array {
  const w = new Writer();
  w.varint(0);
  fieldSection(w, trailers, 'indeterminate');
  return w.finish(padding);
}
