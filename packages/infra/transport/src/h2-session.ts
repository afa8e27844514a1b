/**
 * The one HTTP/2 set-up every session of the relay goes through, client or server side (the
 * ingress's client listener, the trunk on both ends, the inner session on both ends): the
 * bounded windows of tuning.ts, nghttp2's memory ceiling, and an error listener so a peer's
 * protocol error ends its own session, never the process.
 */
import type { Http2Session, Settings } from 'node:http2';
import { H2_MAX_SESSION_MEMORY_MB, h2Settings, tuneH2Session } from './tuning.ts';

export interface H2SessionOptions {
  readonly settings: Settings;
  readonly maxSessionMemory: number;
}

/** Options for `http2.createServer`, `createSecureServer` and `connect`; `extra` adds SETTINGS. */
export function h2SessionOptions(extra: Settings = {}): H2SessionOptions {
  return { settings: h2Settings(extra), maxSessionMemory: H2_MAX_SESSION_MEMORY_MB };
}

/** Runs once per session, as soon as it exists ('session' on a server, after `connect`). */
export function setUpH2Session(session: Http2Session): void {
  tuneH2Session(session);
  session.on('error', () => {});
}
