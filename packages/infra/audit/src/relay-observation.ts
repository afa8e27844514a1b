/**
 * The adapter to the relay observation preload: loaded into a relay with `node --import`, it
 * records every byte the relay decrypted and every request head it parsed, and writes them to
 * the file named by its environment variable when the process exits.
 *
 * The preload lives in the test kit today and moves to `@splitrelay/capture`; the switch is
 * the one `PRELOAD_SPECIFIER` line below (the file format stays: raw bytes with notes).
 *
 * Format: the bytes as read, with notes between them, each on its own line:
 *   \n[peer] "<address>:<port>"\n            a connection the relay accepted
 *   \n[http1 connect] {"method",…,"headers"}\n  an HTTP/1.1 head it parsed (also `http1 request`)
 *   \n[h2 stream] {<header map>}\n           an HTTP/2 head it parsed (also response/headers/push)
 *   \n[capture] <n> bytes\n                  the end, written at exit
 */
import { fileURLToPath } from 'node:url';
import { decodeToken, parseTokenHeader } from '@splitrelay/privacy-pass';
import type { RedeemedToken } from './identities.ts';

const PRELOAD_SPECIFIER = '@splitrelay/test-kit/capture-preload';

export const RELAY_OBSERVATION = {
  preload: fileURLToPath(import.meta.resolve(PRELOAD_SPECIFIER)),
  /** The file the preload writes, named in the relay's environment. */
  env: 'SPLITRELAY_CAPTURE',
} as const;

interface ObservationNote {
  readonly label: string;
  /** Byte offset of the note's `[` in the file. */
  readonly offset: number;
  readonly value: unknown;
}

export interface RelayObservation {
  readonly notes: readonly ObservationNote[];
  /** Peers the relay accepted, as `address:port` (with the note's offset). */
  readonly peers: readonly { readonly peer: string; readonly offset: number }[];
  /** Request heads it parsed: header maps, lower-case names. */
  readonly heads: readonly {
    readonly label: string;
    readonly offset: number;
    readonly headers: Readonly<Record<string, unknown>>;
  }[];
  /** Whether the preload wrote its end line (the relay exited cleanly). */
  readonly complete: boolean;
}

const NOTE = /\n\[([a-z0-9 ]{1,24})\] ([^\n]*)\n/g;

export function parseObservation(bytes: Uint8Array): RelayObservation {
  // latin1: one character per byte, so string offsets are file offsets.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const notes: ObservationNote[] = [];
  let complete = false;
  for (const m of text.matchAll(NOTE)) {
    const label = m[1] as string;
    const raw = m[2] as string;
    const offset = (m.index ?? 0) + 1;
    if (label === 'capture') {
      complete = true;
      continue;
    }
    let value: unknown;
    try {
      // The preload writes JSON.stringify output, which is ASCII-safe for what matters here
      // (addresses, header names); values with other bytes are read as latin1 all the same.
      value = JSON.parse(raw);
    } catch {
      // Bytes a peer sent can look like a note; only well-formed JSON counts as one.
      continue;
    }
    notes.push({ label, offset, value });
  }
  const peers = notes
    .filter((n) => n.label === 'peer' && typeof n.value === 'string')
    .map((n) => ({ peer: n.value as string, offset: n.offset }));
  const heads = notes.flatMap((n) => {
    if (n.label.startsWith('http1 ')) {
      const v = n.value as { headers?: unknown; method?: unknown; url?: unknown };
      if (v && typeof v === 'object' && v.headers && typeof v.headers === 'object')
        return [
          {
            label: n.label,
            offset: n.offset,
            headers: {
              ...(v.headers as Record<string, unknown>),
              ':method': v.method,
              ':path': v.url,
            },
          },
        ];
      return [];
    }
    if (n.label.startsWith('h2 ') && n.value && typeof n.value === 'object')
      return [
        { label: n.label, offset: n.offset, headers: n.value as Readonly<Record<string, unknown>> },
      ];
    return [];
  });
  return { notes, peers, heads, complete };
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
