/**
 * What a relay learned, as `@splitrelay/capture` records it from inside the process (loaded
 * with `node --import`): every byte it read after TLS, every request head it parsed, and every
 * peer. This adapter reads a capture file into what the checks ask of it, with each record's
 * byte offset in the file, so a verdict can point at the evidence.
 */
import {
  CAPTURE_ENV,
  CAPTURE_MAGIC,
  CAPTURE_PRELOAD,
  CaptureFileError,
  decodeRecord,
  type CaptureRecord,
} from '@splitrelay/capture';
import { decodeToken, parseTokenHeader } from '@splitrelay/privacy-pass';
import type { RedeemedToken } from './identities.ts';

export const RELAY_OBSERVATION = {
  preload: CAPTURE_PRELOAD,
  /** The file the preload writes, named in the relay's environment. */
  env: CAPTURE_ENV,
} as const;

export interface RelayObservation {
  /** Peers that connected to the relay, as `address:port` (with the record's offset). */
  readonly peers: readonly { readonly peer: string; readonly offset: number }[];
  /** Request heads it parsed: header maps, lower-case names, pseudo-headers included. */
  readonly heads: readonly {
    readonly label: string;
    readonly offset: number;
    readonly headers: Readonly<Record<string, unknown>>;
  }[];
  /** Whether the capture has its end record (the relay exited cleanly). */
  readonly complete: boolean;
}

/** Every record with the byte offset it starts at; a record cut short ends the list. */
function recordsOf(bytes: Uint8Array): { record: CaptureRecord; offset: number }[] {
  const out: { record: CaptureRecord; offset: number }[] = [];
  if (bytes.length < CAPTURE_MAGIC.length) return out;
  let offset = CAPTURE_MAGIC.length;
  while (offset < bytes.length) {
    try {
      const { value, bytesRead } = decodeRecord(bytes.subarray(offset));
      out.push({ record: value, offset });
      offset += bytesRead;
    } catch (err) {
      if (err instanceof CaptureFileError) break;
      throw err;
    }
  }
  return out;
}

export function parseObservation(bytes: Uint8Array): RelayObservation {
  const peers: { peer: string; offset: number }[] = [];
  const heads: { label: string; offset: number; headers: Record<string, unknown> }[] = [];
  let complete = false;
  for (const { record, offset } of recordsOf(bytes)) {
    if (record.type === 'end') complete = true;
    else if (record.type === 'peer' && record.direction === 'in') {
      const host = record.remoteAddress.includes(':')
        ? `[${record.remoteAddress}]`
        : record.remoteAddress;
      peers.push({ peer: `${host}:${record.remotePort}`, offset });
    } else if (record.type === 'head') {
      const headers: Record<string, unknown> = {};
      for (const [name, value] of record.headers) {
        const prior = headers[name];
        headers[name] =
          prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
      }
      if (record.method !== undefined) headers[':method'] ??= record.method;
      if (record.target !== undefined) headers[':path'] ??= record.target;
      heads.push({ label: record.kind, offset, headers });
    }
  }
  return { peers, heads, complete };
}

/** Every Privacy Pass token presented in a parsed head (`Proxy-Authorization: PrivateToken …`). */
export function tokensInHeads(observation: RelayObservation): RedeemedToken[] {
  const out = new Map<string, RedeemedToken>();
  for (const head of observation.heads) {
    const value = head.headers['proxy-authorization'];
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v !== 'string') continue;
      try {
        const bytes = parseTokenHeader(v);
        const t = decodeToken(bytes);
        out.set(Buffer.from(bytes).toString('hex'), {
          token: bytes,
          nonce: t.nonce,
          authenticator: t.authenticator,
        });
      } catch {
        // Not a token this codec reads: a leaky or hostile header, searched as text anyway.
      }
    }
  }
  return [...out.values()];
}
