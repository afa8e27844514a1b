/**
 * The values the codecs read and write, and the checks every field and control datum passes.
 *
 * Field names and values are strings of latin1 code units (one char per byte), so any byte
 * string RFC 9292 carries round-trips exactly. Validity follows RFC 9292 §3.6, which defers to
 * HTTP/2 (RFC 9113 §8.2.1, §8.2.2): names are non-empty lowercase tokens; values have no NUL,
 * CR or LF and no leading or trailing space or tab; connection-specific fields are refused.
 * Pseudo-fields are refused altogether: RFC 9292 forbids the five of HTTP/2 and this project
 * uses no extension that defines others.
 */
import { BhttpError } from './errors.ts';

export interface Field {
  readonly name: string;
  readonly value: string;
}

export type Framing = 'known-length' | 'indeterminate';

export interface RequestControl {
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
}

export interface BhttpRequest extends RequestControl {
  readonly headers: readonly Field[];
  readonly content: Uint8Array;
  readonly trailers: readonly Field[];
}

export interface InformationalResponse {
  readonly status: number;
  readonly headers: readonly Field[];
}

export interface BhttpResponse {
  readonly informational: readonly InformationalResponse[];
  readonly status: number;
  readonly headers: readonly Field[];
  readonly content: Uint8Array;
  readonly trailers: readonly Field[];
}

/** Bounds a decoder enforces, so a hostile message is an error and never an allocation bomb. */
export interface BhttpLimits {
  /** Bytes of one field section (names + values + their length prefixes). Default 16384. */
  readonly maxFieldSectionBytes?: number;
  /** Field lines in one section. Default 128. */
  readonly maxFields?: number;
  /** Bytes of content, in total. Default 1 MiB. */
  readonly maxContentBytes?: number;
  /** Bytes of each request control datum (method, scheme, authority, path). Default 8192. */
  readonly maxControlBytes?: number;
  /** Informational (1xx) responses before the final one. Default 8. */
  readonly maxInformational?: number;
}

export const DEFAULT_LIMITS: Required<BhttpLimits> = Object.freeze({
  maxFieldSectionBytes: 16384,
  maxFields: 128,
  maxContentBytes: 1024 * 1024,
  maxControlBytes: 8192,
  maxInformational: 8,
});

export function resolveLimits(limits: BhttpLimits | undefined): Required<BhttpLimits> {
  const out = { ...DEFAULT_LIMITS, ...limits };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`${k} must be a non-negative integer`);
  }
  return out;
}

/** tchar of RFC 9110 §5.6.2, without uppercase (RFC 9113 §8.2.1). */
const NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+\-.]*)?$/;
/** Visible ASCII only: no space, no controls, no DEL (authority and path are wire bytes). */
const VISIBLE = /^[\x21-\x7e]*$/;
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

export function checkField(name: string, value: string): void {
  if (!NAME.test(name)) throw new BhttpError('malformed', 'invalid field name');
  if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && value !== 'trailers')) {
    throw new BhttpError('malformed', 'connection-specific field');
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0xff) {
      throw new BhttpError('malformed', 'invalid field value');
    }
  }
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) {
    throw new BhttpError('malformed', 'field value with surrounding whitespace');
  }
}

export function checkRequestControl(c: RequestControl): void {
  if (!TOKEN.test(c.method)) throw new BhttpError('malformed', 'invalid method');
  if (!SCHEME.test(c.scheme)) throw new BhttpError('malformed', 'invalid scheme');
  if (!VISIBLE.test(c.authority)) throw new BhttpError('malformed', 'invalid authority');
  if (!VISIBLE.test(c.path)) throw new BhttpError('malformed', 'invalid path');
}

export function checkStatus(status: number, informational: boolean): void {
  const ok = informational ? status >= 100 && status <= 199 : status >= 200 && status <= 599;
  if (!Number.isInteger(status) || !ok) throw new BhttpError('malformed', 'invalid status code');
}

export const latin1 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError('string is not latin1');
    out[i] = c;
  }
  return out;
}
