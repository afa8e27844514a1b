/**
 * Whole-message decoders over `BhttpParser`: the bytes are one complete message (RFC 9292
 * messages end where their container ends, §3.1), so `bytesRead` is always the whole input.
 * Content is gathered into one array here; a caller that must not hold it whole uses the
 * parser directly.
 */
import { BhttpError } from './errors.ts';
import type {
  BhttpLimits,
  BhttpRequest,
  BhttpResponse,
  Field,
  Framing,
  InformationalResponse,
} from './message.ts';
import { BhttpParser, type BhttpEvent } from './parser.ts';

export interface Decoded<T> {
  readonly value: T;
  readonly framing: Framing;
  readonly bytesRead: number;
}

function collect(kind: 'request' | 'response', bytes: Uint8Array, limits?: BhttpLimits) {
  const events: BhttpEvent[] = [];
  const content: Uint8Array[] = [];
  let contentLength = 0;
  const parser = new BhttpParser({
    kind,
    limits,
    onEvent(e) {
      if (e.type === 'content') {
        content.push(e.chunk);
        contentLength += e.chunk.length;
      } else {
        events.push(e);
      }
    },
  });
  parser.push(bytes);
  parser.end();
  const body = new Uint8Array(contentLength);
  let at = 0;
  for (const c of content) {
    body.set(c, at);
    at += c.length;
  }
  const trailers = events.find((e) => e.type === 'trailers');
  return {
    events,
    body,
    trailers: trailers?.type === 'trailers' ? trailers.trailers : ([] as Field[]),
  };
}

export function decodeRequest(bytes: Uint8Array, limits?: BhttpLimits): Decoded<BhttpRequest> {
  const { events, body, trailers } = collect('request', bytes, limits);
  const head = events.find((e) => e.type === 'request-head');
  if (head?.type !== 'request-head') throw new BhttpError('truncated', 'no request head');
  return {
    value: { ...head.control, headers: head.headers, content: body, trailers },
    framing: head.framing,
    bytesRead: bytes.length,
  };
}

export function decodeResponse(bytes: Uint8Array, limits?: BhttpLimits): Decoded<BhttpResponse> {
  const { events, body, trailers } = collect('response', bytes, limits);
  const head = events.find((e) => e.type === 'response-head');
  if (head?.type !== 'response-head') throw new BhttpError('truncated', 'no response head');
  const informational: InformationalResponse[] = [];
  for (const e of events)
    if (e.type === 'informational') informational.push({ status: e.status, headers: e.headers });
  return {
    value: { informational, status: head.status, headers: head.headers, content: body, trailers },
    framing: head.framing,
    bytesRead: bytes.length,
  };
}
