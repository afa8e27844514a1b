/**
 * ClientHello and ServerHello (RFC 8446 §4.1.2, §4.1.3), and the handshake message header
 * (§4):
 *
 *   struct {                                   struct {
 *     HandshakeType msg_type;    // 1 byte       ProtocolVersion legacy_version;   // 0x0303
 *     uint24 length;                             Random random;                    // 32 bytes
 *     select (msg_type) { … } body;              opaque legacy_session_id<0..32>;
 *   } Handshake;                                 CipherSuite cipher_suites<2..2^16-2>;
 *                                                opaque legacy_compression_methods<1..2^8-1>;
 *                                                Extension extensions<8..2^16-1>;
 *                                              } ClientHello;
 *   struct {
 *     ProtocolVersion legacy_version;            struct {
 *     Random random;                               ExtensionType extension_type;  // 2 bytes
 *     opaque legacy_session_id_echo<0..32>;        opaque extension_data<0..2^16-1>;
 *     CipherSuite cipher_suite;                  } Extension;
 *     uint8 legacy_compression_method = 0;
 *     Extension extensions<6..2^16-1>;
 *   } ServerHello;
 *
 * A HelloRetryRequest is a ServerHello whose random is the SHA-256 of "HelloRetryRequest"
 * (§4.1.3). A TLS 1.2 hello may end before its extensions (RFC 5246 §7.4.1.2): that decodes
 * with no extensions, and encodes back with an empty extensions block.
 */
import { u24be } from '../bytes.ts';
import { EvidenceError } from '../errors.ts';
import { Reader } from './reader.ts';

export const HANDSHAKE_CLIENT_HELLO = 1;
export const HANDSHAKE_SERVER_HELLO = 2;

/** Bounds what one handshake message can make us buffer. */
export const MAX_HANDSHAKE_BYTES = 256 * 1024;

export const HELLO_RETRY_REQUEST_RANDOM = Uint8Array.from(
  Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
);

export interface TlsExtension {
  readonly type: number;
  readonly data: Uint8Array;
}

export interface ClientHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cipherSuites: readonly number[];
  readonly compressionMethods: readonly number[];
  readonly extensions: readonly TlsExtension[];
}

export interface ServerHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  readonly extensions: readonly TlsExtension[];
}

export interface HandshakeMessage {
  readonly type: number;
  readonly body: Uint8Array;
}

/** One handshake message from the front of `bytes`; 'incomplete' if it is not all there. */
export function decodeHandshake(bytes: Uint8Array): { value: HandshakeMessage; bytesRead: number } {
  const length = u24be(bytes, 1);
  if (length === undefined) throw new EvidenceError('incomplete', bytes.length, 'handshake header');
  if (length > MAX_HANDSHAKE_BYTES)
    throw new EvidenceError('too-large', 1, 'handshake message above the size limit');
  if (bytes.length < 4 + length)
    throw new EvidenceError('incomplete', bytes.length, 'handshake body');
  return {
    value: { type: bytes[0] as number, body: bytes.subarray(4, 4 + length) },
    bytesRead: 4 + length,
  };
}

export function encodeHandshake(type: number, body: Uint8Array): Uint8Array {
  if (body.length > 0xffffff) throw new RangeError('handshake body too long');
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = body.length >> 16;
  out[2] = (body.length >> 8) & 0xff;
  out[3] = body.length & 0xff;
  out.set(body, 4);
  return out;
}

function readExtensions(r: Reader, min: number): TlsExtension[] {
  if (r.remaining === 0) return [];
  const list = r.vector(2, min, 0xffff, 'extensions');
  const out: TlsExtension[] = [];
  const seen = new Set<number>();
  while (list.remaining > 0) {
    const at = list.base + list.offset;
    const type = list.u16('extension type');
    // RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type".
    if (seen.has(type)) throw new EvidenceError('invalid', at, 'duplicate extension');
    seen.add(type);
    out.push({ type, data: list.vector(2, 0, 0xffff, 'extension data').bytes });
  }
  return out;
}

/** The body of a ClientHello (without the 4-byte handshake header). */
export function decodeClientHello(body: Uint8Array): ClientHello {
  const r = new Reader(body);
  const legacyVersion = r.u16('legacy_version');
  const random = r.take(32, 'random');
  const sessionId = r.vector(1, 0, 32, 'legacy_session_id').bytes;
  const suites = r.vector(2, 2, 0xfffe, 'cipher_suites');
  if (suites.remaining % 2 !== 0)
    throw new EvidenceError('invalid', suites.base, 'odd cipher_suites length');
  const cipherSuites: number[] = [];
  while (suites.remaining > 0) cipherSuites.push(suites.u16('cipher suite'));
  const compression = r.vector(1, 1, 0xff, 'legacy_compression_methods');
  const compressionMethods = [...compression.bytes];
  const extensions = readExtensions(r, 0);
  r.end('ClientHello');
  return { legacyVersion, random, sessionId, cipherSuites, compressionMethods, extensions };
}

export function decodeServerHello(body: Uint8Array): ServerHello {
  const r = new Reader(body);
  const legacyVersion = r.u16('legacy_version');
  const random = r.take(32, 'random');
  const sessionId = r.vector(1, 0, 32, 'legacy_session_id_echo').bytes;
  const cipherSuite = r.u16('cipher_suite');
  const compressionMethod = r.u8('legacy_compression_method');
  const extensions = readExtensions(r, 0);
  r.end('ServerHello');
  return { legacyVersion, random, sessionId, cipherSuite, compressionMethod, extensions };
}

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

function vec(lengthBytes: 1 | 2, bytes: Uint8Array | readonly number[]): number[] {
  const b = [...bytes];
  if (b.length >= 1 << (8 * lengthBytes)) throw new RangeError('vector too long');
  return [...(lengthBytes === 1 ? [b.length] : u16(b.length)), ...b];
}

function encodeExtensions(extensions: readonly TlsExtension[]): number[] {
  return vec(
    2,
    extensions.flatMap((e) => [...u16(e.type), ...vec(2, e.data)]),
  );
}

/** The whole handshake message (header and body). */
export function encodeClientHello(ch: ClientHello): Uint8Array {
  const body = [
    ...u16(ch.legacyVersion),
    ...ch.random,
    ...vec(1, ch.sessionId),
    ...vec(2, ch.cipherSuites.flatMap(u16)),
    ...vec(1, ch.compressionMethods),
    ...encodeExtensions(ch.extensions),
  ];
  return encodeHandshake(HANDSHAKE_CLIENT_HELLO, Uint8Array.from(body));
}

export function encodeServerHello(sh: ServerHello): Uint8Array {
  const body = [
    ...u16(sh.legacyVersion),
    ...sh.random,
    ...vec(1, sh.sessionId),
    ...u16(sh.cipherSuite),
    sh.compressionMethod,
    ...encodeExtensions(sh.extensions),
  ];
  return encodeHandshake(HANDSHAKE_SERVER_HELLO, Uint8Array.from(body));
}

export function isHelloRetryRequest(sh: ServerHello): boolean {
  return sh.random.length === 32 && sh.random.every((b, i) => b === HELLO_RETRY_REQUEST_RANDOM[i]);
}
