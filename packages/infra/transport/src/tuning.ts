/**
 * The data path's measured knobs, in one place (docs/design.md, "Performance facts"). Every hop
 * imports these instead of choosing its own numbers.
 */
import { setDefaultHighWaterMark } from 'node:stream';
import type { Http2Session, Settings } from 'node:http2';
import type { Socket } from 'node:net';
import type { ConnectionOptions, TlsOptions } from 'node:tls';

/** h2 flow-control window per stream and per session: bounded, so it stays the backpressure. */
export const H2_WINDOW_BYTES = 16 * 1024 * 1024;

/** Stream buffer threshold: fewer, larger reads and writes through each hop. */
export const HIGH_WATER_MARK_BYTES = 1024 * 1024;

/**
 * TLS 1.3 only. AES-128-GCM first: AES-NI makes it ~7% faster than ChaCha20 here, and Node
 * picks AES-256-GCM unless told.
 */
export const TLS_CIPHERSUITES =
  'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

/**
 * Key exchange groups, most preferred first: the post-quantum hybrid X25519MLKEM768
 * (draft-ietf-tls-ecdhe-mlkem) on every hop, so a recording of today's traffic cannot be
 * decrypted by a future quantum computer; X25519 and P-256 for peers without it. Node 26's
 * OpenSSL prefers the hybrid already; naming it here keeps that a choice of this project, not
 * of a default that may change, and the auditor checks it on every hop (apps/audit).
 */
export const TLS_GROUPS = 'X25519MLKEM768:X25519:P-256';

export const tlsDefaults = {
  minVersion: 'TLSv1.3',
  ciphers: TLS_CIPHERSUITES,
  ecdhCurve: TLS_GROUPS,
} as const satisfies Pick<TlsOptions & ConnectionOptions, 'minVersion' | 'ciphers' | 'ecdhCurve'>;

/**
 * nghttp2's memory ceiling per session, in MB (Node's default is 10). It counts data queued
 * for peers whose windows are full, so a trunk or an inner session carrying hundreds of busy
 * streams outgrows the default and starts refusing new streams. What really bounds memory is
 * the windows above and the stream buffers; this ceiling only has to sit above them.
 */
export const H2_MAX_SESSION_MEMORY_MB = 512;

export function h2Settings(extra: Settings = {}): Settings {
  return { initialWindowSize: H2_WINDOW_BYTES, ...extra };
}

/**
 * Raises the session (connection-level) window, which `initialWindowSize` does not touch.
 * Must run on both ends of every session, once it is connected.
 */
export function tuneH2Session(session: Http2Session): void {
  const apply = (): void => {
    if (!session.destroyed) session.setLocalWindowSize(H2_WINDOW_BYTES);
  };
  if (session.connecting) session.once('connect', apply);
  else apply();
}

/** `tls.connect` and accepted sockets do not disable Nagle: small flows stalled 40 ms without it. */
export function tuneSocket(socket: Socket): void {
  socket.setNoDelay(true);
}

let processTuned = false;

/**
 * Sets the default highWaterMark for every byte stream created afterwards, sockets accepted
 * by servers included (`tls.createServer`'s own option does not reach them).
 */
export function tuneProcess(highWaterMark = HIGH_WATER_MARK_BYTES): void {
  if (processTuned) return;
  processTuned = true;
  setDefaultHighWaterMark(false, highWaterMark);
}
