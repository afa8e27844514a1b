/**
 * Per-connection TCP reassembly, each direction on its own (RFC 9293 §3.4 sequence numbers,
 * modulo 2^32). Kept simple and bounded, because the auditor needs the bytes each party
 * sent, not a TCP implementation:
 *   - a direction starts at its SYN's sequence number + 1, or at the first data seen;
 *   - bytes already delivered (retransmits, overlaps) are dropped: the first copy wins, and
 *     the dropped byte count is kept;
 *   - out-of-order segments wait, up to `maxPendingBytes` per direction; when that is
 *     exceeded, or at the end of the capture, the hole is recorded as a gap and the stream
 *     goes on after it (the bytes are joined, with the gap noted at its stream offset);
 *   - a direction keeps at most `maxStreamBytes`; past that it is marked truncated.
 * Every delivered piece remembers its packet number and file offset, so a stream offset
 * maps back to "packet 17, file offset 2345" (`locate`).
 *
 * A connection is one 4-tuple from a SYN (or from the first packet seen) until a new SYN
 * on the same 4-tuple after FIN or RST. The SYN sender is the client; without a SYN, the
 * SYN-ACK sender is the server, and failing that the first sender is taken as the client.
 */
import type { DissectedPacket } from './layers.ts';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface StreamPiece {
  /** Offset in `bytes` of this piece. */
  readonly streamOffset: number;
  readonly length: number;
  readonly packet: number;
  /** File offset of the piece's first byte. */
  readonly fileOffset: number;
}

export interface TcpStream {
  readonly bytes: Uint8Array;
  readonly pieces: readonly StreamPiece[];
  /** Holes: `length` bytes never captured, missing just before `streamOffset`. */
  readonly gaps: readonly { readonly streamOffset: number; readonly length: number }[];
  readonly duplicateBytes: number;
  readonly truncated: boolean;
}

export interface TcpConnection {
  /** 1-based, in order of first packet. */
  readonly id: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly firstPacket: number;
  readonly lastPacket: number;
  readonly sawSyn: boolean;
  readonly toServer: TcpStream;
  readonly toClient: TcpStream;
}

export interface ReassemblyOptions {
  readonly maxStreamBytes?: number;
  readonly maxPendingBytes?: number;
}

const MOD = 2 ** 32;
/** Bounds the work of draining, whatever the segment sizes. */
const MAX_PENDING_SEGMENTS = 1024;
const rel = (seq: number, base: number): number => (seq - base + MOD) % MOD;

interface Pending {
  readonly at: number;
  readonly data: Uint8Array;
  readonly packet: number;
  readonly fileOffset: number;
}

class Direction {
  base: number | undefined;
  /** Next expected offset relative to `base` (may pass 2^32 on long streams: kept as a number). */
  next = 0;
  readonly chunks: Uint8Array[] = [];
  readonly pieces: StreamPiece[] = [];
  readonly gaps: { streamOffset: number; length: number }[] = [];
  pending: Pending[] = [];
  pendingBytes = 0;
  duplicateBytes = 0;
  size = 0;
  truncated = false;
  fin = false;

  readonly maxStream: number;
  readonly maxPending: number;

  constructor(maxStream: number, maxPending: number) {
    this.maxStream = maxStream;
    this.maxPending = maxPending;
  }

  syn(seq: number): void {
    this.base ??= (seq + 1) % MOD;
  }

  data(seq: number, data: Uint8Array, packet: number, fileOffset: number): void {
    if (data.length === 0) return;
    this.base ??= seq;
    // Relative to where the stream is now; far "behind" (over 2^31) is an old retransmit.
    const ahead = rel(seq, (this.base + this.next) % MOD);
    if (ahead >= MOD / 2) {
      const behind = MOD - ahead;
      if (behind >= data.length) {
        this.duplicateBytes += data.length;
        return;
      }
      this.duplicateBytes += behind;
      this.#deliver(data.subarray(behind), packet, fileOffset + behind);
      this.#drain();
      return;
    }
    if (ahead === 0) {
      this.#deliver(data, packet, fileOffset);
      this.#drain();
      return;
    }
    this.pending.push({ at: this.next + ahead, data, packet, fileOffset });
    this.pendingBytes += data.length;
    if (this.pendingBytes > this.maxPending || this.pending.length > MAX_PENDING_SEGMENTS)
      this.#skipToPending();
  }

  finish(): TcpStream {
    while (this.pending.length > 0) this.#skipToPending();
    const bytes = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    return {
      bytes,
      pieces: this.pieces,
      gaps: this.gaps,
      duplicateBytes: this.duplicateBytes,
      truncated: this.truncated,
    };
  }

  #deliver(data: Uint8Array, packet: number, fileOffset: number): void {
    this.next += data.length;
    const room = this.maxStream - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const kept = data.length > room ? data.subarray(0, room) : data;
    if (kept.length < data.length) this.truncated = true;
    this.pieces.push({ streamOffset: this.size, length: kept.length, packet, fileOffset });
    this.chunks.push(kept);
    this.size += kept.length;
  }

  /** Delivers waiting segments that now touch or overlap the stream's end. */
  #drain(): void {
    for (let progressed = true; progressed;) {
      progressed = false;
      for (let i = 0; i < this.pending.length; i++) {
        const p = this.pending[i] as Pending;
        if (p.at > this.next) continue;
        this.pending.splice(i, 1);
        this.pendingBytes -= p.data.length;
        const skip = this.next - p.at;
        if (skip >= p.data.length) this.duplicateBytes += p.data.length;
        else {
          this.duplicateBytes += skip;
          this.#deliver(p.data.subarray(skip), p.packet, p.fileOffset + skip);
        }
        progressed = true;
        break;
      }
    }
  }

  /** Gives up on the hole before the earliest waiting segment: records a gap, goes on. */
  #skipToPending(): void {
    let earliest = this.pending[0] as Pending;
    for (const p of this.pending) if (p.at < earliest.at) earliest = p;
    if (earliest.at > this.next) {
      this.gaps.push({ streamOffset: this.size, length: earliest.at - this.next });
      this.next = earliest.at;
    }
    this.#drain();
  }
}

interface Building {
  readonly id: number;
  client: Endpoint;
  server: Endpoint;
  readonly firstPacket: number;
  lastPacket: number;
  sawSyn: boolean;
  closed: boolean;
  /** Keyed by the sender's `address|port`. */
  readonly dirs: Map<string, Direction>;
}

const key = (e: Endpoint): string => `${e.address}|${e.port}`;
const pairKey = (a: Endpoint, b: Endpoint): string => {
  const [x, y] = [key(a), key(b)].sort();
  return `${x}>${y}`;
};

export function reassembleTcp(
  packets: readonly DissectedPacket[],
  options: ReassemblyOptions = {},
): TcpConnection[] {
  const maxStream = options.maxStreamBytes ?? 64 * 1024 * 1024;
  const maxPending = options.maxPendingBytes ?? 1024 * 1024;
  const open = new Map<string, Building>();
  const all: Building[] = [];
  for (const p of packets) {
    if (!p.ip || !p.tcp) continue;
    const src = { address: p.ip.src, port: p.tcp.srcPort };
    const dst = { address: p.ip.dst, port: p.tcp.dstPort };
    const k = pairKey(src, dst);
    let c = open.get(k);
    const freshSyn = p.tcp.syn && !p.tcp.ackFlag;
    if (c && freshSyn) {
      // A new connection on a reused 4-tuple, unless this is the same SYN retransmitted.
      const base = c.dirs.get(key(src))?.base;
      if (c.closed || (base !== undefined && base !== (p.tcp.seq + 1) % MOD)) c = undefined;
    }
    if (!c) {
      c = {
        id: all.length + 1,
        client: src,
        server: dst,
        firstPacket: p.number,
        lastPacket: p.number,
        sawSyn: false,
        closed: false,
        dirs: new Map([
          [key(src), new Direction(maxStream, maxPending)],
          [key(dst), new Direction(maxStream, maxPending)],
        ]),
      };
      if (p.tcp.syn && p.tcp.ackFlag) {
        c.client = dst;
        c.server = src;
      }
      open.set(k, c);
      all.push(c);
    }
    c.lastPacket = p.number;
    const dir = c.dirs.get(key(src)) as Direction;
    if (p.tcp.syn) {
      c.sawSyn = true;
      dir.syn(p.tcp.seq);
    }
    const seq = p.tcp.syn ? (p.tcp.seq + 1) % MOD : p.tcp.seq;
    dir.data(seq, p.tcp.payload, p.number, p.fileOffset + p.tcp.payloadOffset);
    if (p.tcp.rst || p.tcp.fin) {
      dir.fin = true;
      if (p.tcp.rst || [...c.dirs.values()].every((d) => d.fin)) c.closed = true;
    }
  }
  return all.map((c) => ({
    id: c.id,
    client: c.client,
    server: c.server,
    firstPacket: c.firstPacket,
    lastPacket: c.lastPacket,
    sawSyn: c.sawSyn,
    toServer: (c.dirs.get(key(c.client)) as Direction).finish(),
    toClient: (c.dirs.get(key(c.server)) as Direction).finish(),
  }));
}

/** The packet and file offset of a stream byte, or undefined past the end. */
export function locate(
  stream: TcpStream,
  streamOffset: number,
): { packet: number; fileOffset: number } | undefined {
  let lo = 0;
  let hi = stream.pieces.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const piece = stream.pieces[mid] as StreamPiece;
    if (streamOffset < piece.streamOffset) hi = mid - 1;
    else if (streamOffset >= piece.streamOffset + piece.length) lo = mid + 1;
    else
      return {
        packet: piece.packet,
        fileOffset: piece.fileOffset + (streamOffset - piece.streamOffset),
      };
  }
  return undefined;
}
