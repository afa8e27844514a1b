/**
 * Reading a capture file back: its records, and the views a check needs (each stream's bytes
 * in order, the heads by kind, the peers, the haystacks for the leak search).
 */
import { readFile } from 'node:fs/promises';
import { CaptureFileError, decodeMagic, decodeRecord } from './codec.ts';
import type {
  CaptureRecord,
  EndRecord,
  HeadKind,
  HeadRecord,
  PeerRecord,
  StreamRecord,
} from './records.ts';

/** One stream of the process: what it is, and every byte it read, in order. */
export interface CapturedStream {
  readonly stream: number;
  readonly source: string;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly bytes: Buffer;
  readonly reads: number;
}

export interface Capture {
  readonly records: readonly CaptureRecord[];
  readonly streams: ReadonlyMap<number, CapturedStream>;
  readonly heads: readonly HeadRecord[];
  readonly peers: readonly PeerRecord[];
  /** Bytes read, summed over every stream. */
  readonly readBytes: number;
  /** The end record; undefined when the process did not exit normally (e.g. SIGKILL). */
  readonly end: EndRecord | undefined;
  /** The file stopped inside a record (a write cut short); the records before it are kept. */
  readonly cut: boolean;
}

/**
 * Parses a whole capture file. A file cut inside its last record gives the records before
 * it with `cut` set; anything else malformed throws CaptureFileError.
 */
export function parseCaptureFile(bytes: Uint8Array): Capture {
  let offset = decodeMagic(bytes);
  const records: CaptureRecord[] = [];
  let cut = false;
  while (offset < bytes.length) {
    try {
      const { value, bytesRead } = decodeRecord(bytes.subarray(offset));
      records.push(value);
      offset += bytesRead;
    } catch (err) {
      if (err instanceof CaptureFileError) {
        if (err.kind === 'incomplete') {
          cut = true;
          break;
        }
        throw new CaptureFileError(err.kind, offset + err.offset, err.detail);
      }
      throw err;
    }
  }
  return captureOf(records, cut);
}

export async function readCaptureFile(path: string): Promise<Capture> {
  return parseCaptureFile(await readFile(path));
}

function captureOf(records: CaptureRecord[], cut: boolean): Capture {
  const described = new Map<number, StreamRecord>();
  const chunks = new Map<number, Uint8Array[]>();
  const heads: HeadRecord[] = [];
  const peers: PeerRecord[] = [];
  let end: EndRecord | undefined;
  let readBytes = 0;
  for (const r of records) {
    switch (r.type) {
      case 'stream':
        described.set(r.stream, r);
        break;
      case 'read': {
        let list = chunks.get(r.stream);
        if (!list) chunks.set(r.stream, (list = []));
        list.push(r.bytes);
        readBytes += r.bytes.length;
        break;
      }
      case 'head':
        heads.push(r);
        break;
      case 'peer':
        peers.push(r);
        break;
      case 'end':
        end = r;
        break;
    }
  }
  const streams = new Map<number, CapturedStream>();
  for (const id of new Set([...described.keys(), ...chunks.keys()])) {
    const about = described.get(id);
    const list = chunks.get(id) ?? [];
    streams.set(id, {
      stream: id,
      source: about?.source ?? 'unknown',
      ...(about?.remoteAddress === undefined ? {} : { remoteAddress: about.remoteAddress }),
      ...(about?.remotePort === undefined ? {} : { remotePort: about.remotePort }),
      bytes: Buffer.concat(list),
      reads: list.length,
    });
  }
  return { records, streams, heads, peers, readBytes, end, cut };
}

/** The heads of one or more kinds, in the order they were parsed. */
export function headsOf(capture: Capture, ...kinds: HeadKind[]): HeadRecord[] {
  return capture.heads.filter((h) => kinds.includes(h.kind));
}

/** Every value of a field of a head, its name matched without regard to case. */
export function headerValues(head: HeadRecord, name: string): string[] {
  const lower = name.toLowerCase();
  return head.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/** A peer as text: `tcp in 127.0.1.1:40000 → 127.0.2.1:443`. */
export function describePeer(peer: PeerRecord): string {
  const remote = `${peer.remoteAddress}:${peer.remotePort}`;
  const local =
    peer.localAddress === undefined ? '' : ` → ${peer.localAddress}:${peer.localPort ?? '?'}`;
  return `${peer.transport} ${peer.direction} ${remote}${local}`;
}

/**
 * The capture as haystacks for `findLeaks` of `@splitrelay/evidence`, named so that a finding
 * says where: `<name> read <source>#<id>` per stream (its bytes in order, so a field split
 * across reads is whole), `<name> head <i> <kind>` per head (as JSON text), `<name> peers`
 * and `<name> streams` (one line each).
 */
export function captureHaystacks(
  capture: Capture,
  name = 'capture',
): Record<string, Uint8Array | string> {
  const out: Record<string, Uint8Array | string> = {};
  for (const s of capture.streams.values())
    if (s.bytes.length > 0) out[`${name} read ${s.source}#${s.stream}`] = s.bytes;
  capture.heads.forEach((h, i) => {
    const { type: _type, ...fields } = h;
    out[`${name} head ${i} ${h.kind}`] = JSON.stringify(fields);
  });
  out[`${name} peers`] = capture.peers.map(describePeer).join('\n');
  out[`${name} streams`] = [...capture.streams.values()]
    .map((s) =>
      [
        s.stream,
        s.source,
        s.remoteAddress === undefined ? '' : `${s.remoteAddress}:${s.remotePort}`,
      ]
        .join(' ')
        .trim(),
    )
    .join('\n');
  return out;
}
