/**
 * The capture file's wire format. Records are length-prefixed and typed, so the bytes a
 * process read can never pass for a record the preload wrote (a read holding `[peer] "…"` is
 * still a read).
 *
 *   file   = magic *record
 *   magic  = %x53.52.43.41.50.31.0A            ; "SRCAP1\n"
 *   record = kind:u8 length:u32be body         ; body is `length` bytes
 *
 *   kind 1  read    body = stream:u32be *OCTET  ; a chunk as read
 *   kind 2  stream  body = JSON StreamRecord    ; without "type"
 *   kind 3  head    body = JSON HeadRecord
 *   kind 4  peer    body = JSON PeerRecord
 *   kind 5  end     body = JSON EndRecord
 *
 * JSON is UTF-8. Header values are strings as Node decoded them (latin1 for HTTP/1.1), so a
 * byte above 0x7F comes back as the same character.
 */
import {
  HEAD_KINDS,
  type CaptureRecord,
  type EndRecord,
  type HeadKind,
  type HeadRecord,
  type PeerRecord,
  type StreamRecord,
} from './records.ts';

export const CAPTURE_MAGIC: Uint8Array = Uint8Array.from(Buffer.from('SRCAP1\n', 'latin1'));

/** Largest record body accepted: a read is cut into pieces below it by the writer. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

const HEADER_BYTES = 5;
const KIND = { read: 1, stream: 2, head: 3, peer: 4, end: 5 } as const;

export type CaptureFileErrorKind = 'incomplete' | 'invalid' | 'too-large';

const messages: Readonly<Record<CaptureFileErrorKind, string>> = {
  incomplete: 'capture file is incomplete',
  invalid: 'capture file is malformed',
  'too-large': 'capture record exceeds the size limit',
};

/** The one error of the reader. The message is fixed; `detail` never quotes the file. */
export class CaptureFileError extends Error {
  override readonly name = 'CaptureFileError';
  readonly kind: CaptureFileErrorKind;
  /** Byte offset in the input of the call that threw. */
  readonly offset: number;
  readonly detail: string;
  constructor(kind: CaptureFileErrorKind, offset: number, detail: string) {
    super(messages[kind]);
    this.kind = kind;
    this.offset = offset;
    this.detail = detail;
  }
}

export function encodeRecord(record: CaptureRecord): Uint8Array {
  let kind: number;
  let body: Buffer;
  if (record.type === 'read') {
    kind = KIND.read;
    body = Buffer.allocUnsafe(4 + record.bytes.length);
    body.writeUInt32BE(record.stream, 0);
    body.set(record.bytes, 4);
  } else {
    kind = KIND[record.type];
    const { type: _type, ...fields } = record;
    body = Buffer.from(JSON.stringify(fields), 'utf8');
  }
  if (body.length > MAX_RECORD_BYTES)
    throw new RangeError(`a capture record of ${body.length} bytes is over the limit`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out[0] = kind;
  out.writeUInt32BE(body.length, 1);
  out.set(body, HEADER_BYTES);
  return out;
}

/**
 * One record from the start of `bytes`. Throws `incomplete` when more bytes could finish it,
 * `too-large` for a declared length over MAX_RECORD_BYTES, `invalid` for anything else.
 */
export function decodeRecord(bytes: Uint8Array): { value: CaptureRecord; bytesRead: number } {
  if (bytes.length < HEADER_BYTES)
    throw new CaptureFileError('incomplete', bytes.length, 'record header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = bytes[0] as number;
  const length = view.getUint32(1);
  if (kind < KIND.read || kind > KIND.end) throw new CaptureFileError('invalid', 0, 'record kind');
  if (length > MAX_RECORD_BYTES) throw new CaptureFileError('too-large', 1, 'record length');
  const end = HEADER_BYTES + length;
  if (bytes.length < end) throw new CaptureFileError('incomplete', bytes.length, 'record body');
  const body = bytes.subarray(HEADER_BYTES, end);
  if (kind === KIND.read) {
    if (body.length < 4) throw new CaptureFileError('invalid', HEADER_BYTES, 'read without stream');
    return {
      value: {
        type: 'read',
        stream: view.getUint32(HEADER_BYTES),
        bytes: Uint8Array.from(body.subarray(4)),
      },
      bytesRead: end,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new CaptureFileError('invalid', HEADER_BYTES, 'record body is not JSON');
  }
  const value = checked(kind, json);
  if (value === undefined) throw new CaptureFileError('invalid', HEADER_BYTES, 'record fields');
  return { value, bytesRead: end };
}

/** Checks that the magic opens the file; returns its length. */
export function decodeMagic(bytes: Uint8Array): number {
  const n = Math.min(bytes.length, CAPTURE_MAGIC.length);
  for (let i = 0; i < n; i++)
    if (bytes[i] !== CAPTURE_MAGIC[i]) throw new CaptureFileError('invalid', i, 'magic');
  if (n < CAPTURE_MAGIC.length) throw new CaptureFileError('incomplete', n, 'magic');
  return CAPTURE_MAGIC.length;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isPort = (v: unknown): v is number => isCount(v) && (v as number) <= 65_535;
const optional = (v: unknown, test: (x: unknown) => boolean): boolean => v === undefined || test(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/** Only the known fields come through: a record is what the writer could have written. */
function checked(kind: number, json: unknown): CaptureRecord | undefined {
  if (!isObject(json)) return undefined;
  switch (kind) {
    case KIND.stream: {
      const { stream, source, remoteAddress, remotePort } = json;
      if (!isCount(stream) || !isString(source)) return undefined;
      if (!optional(remoteAddress, isString) || !optional(remotePort, isPort)) return undefined;
      const record: StreamRecord = {
        type: 'stream',
        stream,
        source,
        ...(remoteAddress === undefined ? {} : { remoteAddress: remoteAddress as string }),
        ...(remotePort === undefined ? {} : { remotePort: remotePort as number }),
      };
      return record;
    }
    case KIND.head: {
      const { kind: headKind, stream, method, target, status, headers } = json;
      if (!HEAD_KINDS.includes(headKind as HeadKind)) return undefined;
      if (!optional(stream, isCount) || !optional(method, isString)) return undefined;
      if (!optional(target, isString) || !optional(status, isCount)) return undefined;
      if (!Array.isArray(headers)) return undefined;
      const pairs: (readonly [string, string])[] = [];
      for (const h of headers) {
        if (!Array.isArray(h) || h.length !== 2 || !isString(h[0]) || !isString(h[1]))
          return undefined;
        pairs.push([h[0], h[1]]);
      }
      const record: HeadRecord = {
        type: 'head',
        kind: headKind as HeadKind,
        ...(stream === undefined ? {} : { stream: stream as number }),
        ...(method === undefined ? {} : { method: method as string }),
        ...(target === undefined ? {} : { target: target as string }),
        ...(status === undefined ? {} : { status: status as number }),
        headers: pairs,
      };
      return record;
    }
    case KIND.peer: {
      const { transport, direction, remoteAddress, remotePort, localAddress, localPort } = json;
      if (transport !== 'tcp' && transport !== 'udp') return undefined;
      if (direction !== 'in' && direction !== 'out') return undefined;
      if (!isString(remoteAddress) || !isPort(remotePort)) return undefined;
      if (!optional(localAddress, isString) || !optional(localPort, isPort)) return undefined;
      const record: PeerRecord = {
        type: 'peer',
        transport,
        direction,
        remoteAddress,
        remotePort,
        ...(localAddress === undefined ? {} : { localAddress: localAddress as string }),
        ...(localPort === undefined ? {} : { localPort: localPort as number }),
      };
      return record;
    }
    case KIND.end: {
      const { recordedBytes, droppedBytes } = json;
      if (!isCount(recordedBytes) || !isCount(droppedBytes)) return undefined;
      const record: EndRecord = { type: 'end', recordedBytes, droppedBytes };
      return record;
    }
  }
  return undefined;
}
