/**
 * The plaintext start of a TLS byte stream: records (RFC 8446 §5.1) carrying handshake
 * messages, read until the point where encryption starts or the stream stops being TLS.
 *
 *   struct {
 *     ContentType type;              // 20 change_cipher_spec, 21 alert, 22 handshake,
 *                                    // 23 application_data, 24 heartbeat
 *     ProtocolVersion legacy_record_version;   // 0x03XX
 *     uint16 length;                 // at most 2^14 (+ 256 for ciphertext, §5.2)
 *     opaque fragment[TLSPlaintext.length];
 *   } TLSPlaintext;
 *
 * Handshake messages may span records and records may hold several messages (§5.1), so
 * fragments are joined before messages are cut. Reading stops at application_data (from
 * there on all is ciphertext), at an alert (noted), and at a change_cipher_spec unless the
 * caller allows it: in TLS 1.2 the Finished after it is encrypted under type 22, while a
 * TLS 1.3 HelloRetryRequest exchange sends a compatibility CCS (RFC 8446 §D.4) before the
 * second hello, which is plaintext.
 */
import { u16be } from '../bytes.ts';
import { EvidenceError } from '../errors.ts';
import { decodeHandshake, MAX_HANDSHAKE_BYTES } from './hello.ts';

export interface LocatedHandshake {
  readonly type: number;
  readonly body: Uint8Array;
  /** Offset in the stream of the message's first header byte. */
  readonly streamOffset: number;
}

export type HandshakeStop =
  | 'end-of-stream'
  | 'change-cipher-spec'
  | 'application-data'
  | 'alert'
  | 'not-tls'
  | 'malformed'
  | 'too-large';

export interface HandshakeRead {
  readonly messages: readonly LocatedHandshake[];
  readonly stop: HandshakeStop;
  readonly stopOffset: number;
  readonly recordVersion?: number;
  readonly alert?: { readonly level: number; readonly description: number };
}

const MAX_RECORD = 16384 + 256;

export function readHandshakes(
  stream: Uint8Array,
  options: { readonly changeCipherSpecs?: number; readonly maxMessages?: number } = {},
): HandshakeRead {
  const allowedCcs = options.changeCipherSpecs ?? 0;
  const maxMessages = options.maxMessages ?? 16;
  const messages: LocatedHandshake[] = [];
  /** Handshake bytes not yet cut into messages, and where each piece sits in the stream. */
  let pending = new Uint8Array(0);
  let pieces: { at: number; streamOffset: number }[] = [];
  let ccs = 0;
  let recordVersion: number | undefined;
  const result = (
    stop: HandshakeStop,
    stopOffset: number,
    extra: Partial<HandshakeRead> = {},
  ): HandshakeRead => ({
    messages,
    stop,
    stopOffset,
    ...(recordVersion === undefined ? {} : { recordVersion }),
    ...extra,
  });
  const streamOffsetOf = (at: number): number => {
    let best = pieces[0] as { at: number; streamOffset: number };
    for (const p of pieces) if (p.at <= at) best = p;
    return best.streamOffset + (at - best.at);
  };

  let o = 0;
  while (o < stream.length) {
    if (stream.length - o < 5) return result('end-of-stream', o);
    const type = stream[o] as number;
    const major = stream[o + 1] as number;
    const length = u16be(stream, o + 3) as number;
    if (type < 20 || type > 24 || major !== 3) return result('not-tls', o);
    if (length > MAX_RECORD) return result('malformed', o);
    if (stream.length - o < 5 + length) return result('end-of-stream', o);
    recordVersion ??= u16be(stream, o + 1);
    const fragment = stream.subarray(o + 5, o + 5 + length);
    if (type === 23 || type === 24) return result('application-data', o);
    if (type === 21) {
      return result(
        'alert',
        o,
        length >= 2
          ? { alert: { level: fragment[0] as number, description: fragment[1] as number } }
          : {},
      );
    }
    if (type === 20) {
      if (ccs++ >= allowedCcs) return result('change-cipher-spec', o);
      o += 5 + length;
      continue;
    }
    // type 22: join, then cut whole messages.
    if (pending.length + fragment.length > MAX_HANDSHAKE_BYTES + 4) return result('too-large', o);
    const joined = new Uint8Array(pending.length + fragment.length);
    joined.set(pending, 0);
    joined.set(fragment, pending.length);
    pieces.push({ at: pending.length, streamOffset: o + 5 });
    pending = joined;
    let cut = 0;
    for (;;) {
      let decoded;
      try {
        decoded = decodeHandshake(pending.subarray(cut));
      } catch (err) {
        if (err instanceof EvidenceError && err.kind === 'incomplete') break;
        if (err instanceof EvidenceError && err.kind === 'too-large') return result('too-large', o);
        throw err;
      }
      messages.push({
        type: decoded.value.type,
        body: decoded.value.body,
        streamOffset: streamOffsetOf(cut),
      });
      cut += decoded.bytesRead;
      if (messages.length >= maxMessages) return result('end-of-stream', o + 5 + length);
    }
    if (cut > 0) {
      const rest = pending.slice(cut);
      pieces = pieces
        .filter((p, i) => i === pieces.length - 1 || (pieces[i + 1] as { at: number }).at > cut)
        .map((p) =>
          p.at >= cut
            ? { at: p.at - cut, streamOffset: p.streamOffset }
            : { at: 0, streamOffset: p.streamOffset + (cut - p.at) },
        );
      pending = rest;
    }
    o += 5 + length;
  }
  return result('end-of-stream', o);
}
