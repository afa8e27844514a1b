/**
 * The leak search over what a capture carried: each TCP direction as reassembled, and each
 * UDP flow direction with its datagrams joined, so a finding maps back to the packet that
 * carried its first byte. Packet headers are not searched: the IP header of a link names its
 * two ends by definition; what matters is what the payload tells.
 */
import { findLeaks, type Finding, type LeakSearchOptions } from '../search/find-leaks.ts';
import type { Identity } from '../search/identity.ts';
import type { CaptureDissection } from './dissect-capture.ts';
import { locate, type StreamPiece, type TcpStream } from './tcp-streams.ts';

export interface CaptureFinding extends Finding {
  /** The packet holding the first matched byte, and that byte's offset in the capture file. */
  readonly packet: number;
  readonly fileOffset: number;
}

const endpoint = (e: { address: string; port: number }): string =>
  e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;

export function findLeaksInCapture(
  capture: CaptureDissection,
  identities: readonly Identity[],
  options: LeakSearchOptions = {},
): CaptureFinding[] {
  const streams = new Map<string, TcpStream>();
  for (const c of capture.tcp) {
    streams.set(`tcp ${c.id} ${endpoint(c.client)} → ${endpoint(c.server)}`, c.toServer);
    streams.set(`tcp ${c.id} ${endpoint(c.server)} → ${endpoint(c.client)}`, c.toClient);
  }
  for (const f of capture.udp) {
    for (const fromInitiator of [true, false]) {
      const datagrams = f.datagrams.filter((d) => d.fromInitiator === fromInitiator);
      if (datagrams.length === 0) continue;
      const pieces: StreamPiece[] = [];
      let size = 0;
      for (const d of datagrams) {
        pieces.push({
          streamOffset: size,
          length: d.payload.length,
          packet: d.packet,
          fileOffset: d.fileOffset,
        });
        size += d.payload.length;
      }
      const bytes = new Uint8Array(size);
      for (const [i, d] of datagrams.entries())
        bytes.set(d.payload, (pieces[i] as StreamPiece).streamOffset);
      const [from, to] = fromInitiator ? [f.initiator, f.responder] : [f.responder, f.initiator];
      streams.set(`udp ${f.id} ${endpoint(from)} → ${endpoint(to)}`, {
        bytes,
        pieces,
        gaps: [],
        duplicateBytes: 0,
        truncated: false,
      });
    }
  }
  const haystacks = Object.fromEntries([...streams].map(([name, s]) => [name, s.bytes]));
  return findLeaks(haystacks, identities, options).map((f) => {
    const at = locate(streams.get(f.haystack) as TcpStream, f.offset);
    return { ...f, packet: at?.packet ?? 0, fileOffset: at?.fileOffset ?? -1 };
  });
}
