/**
 * The records of a capture: what one process learned, as the preload saw it. Every field is
 * something the process itself held in memory (a chunk it read, a head its parser decoded, a
 * peer address the kernel gave it), never a guess from outside.
 */

/** Which decoded head: by protocol, side and event. */
export type HeadKind =
  /** HTTP/1.1 heads a server parsed: `request`, `connect` (CONNECT) and `upgrade` events. */
  | 'http1-request'
  | 'http1-connect'
  | 'http1-upgrade'
  /** An HTTP/1.1 response head a client parsed (`response`, `connect`, `upgrade` on a request). */
  | 'http1-response'
  /** h2 request headers a server decoded (`stream`), and a client's response headers. */
  | 'h2-request'
  | 'h2-response'
  /** h2 informational headers, trailers and pushed requests. */
  | 'h2-headers'
  | 'h2-trailers'
  | 'h2-push';

export const HEAD_KINDS: readonly HeadKind[] = Object.freeze([
  'http1-request',
  'http1-connect',
  'http1-upgrade',
  'http1-response',
  'h2-request',
  'h2-response',
  'h2-headers',
  'h2-trailers',
  'h2-push',
]);

export interface HeadRecord {
  readonly type: 'head';
  readonly kind: HeadKind;
  /** The stream (socket, h2 stream) the head arrived on, as numbered in `stream` records. */
  readonly stream?: number;
  /** Request heads: the method, and the request target (HTTP/1.1 url, h2 :path or :authority). */
  readonly method?: string;
  readonly target?: string;
  /** Response heads: the status. */
  readonly status?: number;
  /** Every field as received, in order, pseudo-headers included (h2). */
  readonly headers: readonly (readonly [string, string])[];
}

/** A chunk one JavaScript stream of the process read (after TLS: plaintext). */
export interface ReadRecord {
  readonly type: 'read';
  readonly stream: number;
  readonly bytes: Uint8Array;
}

/** A stream the first time it reads: what it is and, for a socket, who is at the other end. */
export interface StreamRecord {
  readonly type: 'stream';
  readonly stream: number;
  /** The stream's class (`Socket`, `TLSSocket`, `ServerHttp2Stream`, `IncomingMessage`, `udp4`, …). */
  readonly source: string;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

/** A connection accepted (`in`) or opened (`out`), or a UDP peer first heard from or connected. */
export interface PeerRecord {
  readonly type: 'peer';
  readonly transport: 'tcp' | 'udp';
  readonly direction: 'in' | 'out';
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

/** Written at exit: a capture without one ended abruptly (SIGKILL) and may miss its last moments. */
export interface EndRecord {
  readonly type: 'end';
  /** Read bytes recorded, and read bytes not recorded once the size limit was reached. */
  readonly recordedBytes: number;
  readonly droppedBytes: number;
}

export type CaptureRecord = ReadRecord | StreamRecord | HeadRecord | PeerRecord | EndRecord;
