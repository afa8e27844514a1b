/**
 * One packet, layer by layer: the link header (Ethernet, Linux cooked capture v1 and v2,
 * raw IP, BSD loopback), IPv4 or IPv6, then TCP or UDP. A packet that stops making sense
 * partway (a snap length cut, a non-IP frame, a fragment) is not an error: it is returned
 * with what was read and a `problem` saying where it stopped, because one odd frame must
 * not hide the rest of a capture from the auditor.
 *
 * Link headers (LINKTYPE_* values from the tcpdump link-layer registry):
 *   1   EN10MB       dst(6) src(6) EtherType(2), 802.1Q/802.1ad tags (4 each) skipped
 *   113 LINUX_SLL    packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2)   (16 bytes)
 *   276 LINUX_SLL2   protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1)
 *                    addr len(1) addr(8)                                        (20 bytes)
 *   101 RAW, 228 IPV4, 229 IPV6: the IP header first
 *   0   NULL         4-byte address family in the writer's byte order (2 = IPv4; 24, 28, 30 = IPv6)
 *
 * IPv4 (RFC 791 §3.1): header length from IHL, payload cut at Total Length (Ethernet pads
 * short frames). IPv6 (RFC 8200 §3, §4): Hop-by-Hop (0), Routing (43), Destination Options
 * (60), AH (51) and Fragment (44) headers walked. Fragments are not reassembled: a
 * fragment is reported as one (loopback TCP does not fragment; a capture that does is
 * flagged, not misread).
 */
import { formatIPv4, formatIPv6 } from '@splitrelay/authority';
import { u16be, u32be } from '../bytes.ts';
import type { CapturedPacket } from './capture-file.ts';

export interface IpLayer {
  readonly version: 4 | 6;
  readonly src: string;
  readonly dst: string;
  /** Transport protocol number (6 TCP, 17 UDP, …). */
  readonly protocol: number;
  /** Offset of the IP header in the packet data. */
  readonly offset: number;
}

export interface TcpLayer {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly syn: boolean;
  readonly fin: boolean;
  readonly rst: boolean;
  readonly ackFlag: boolean;
  /** Offset of the payload in the packet data, and the payload (a view). */
  readonly payloadOffset: number;
  readonly payload: Uint8Array;
}

export interface UdpLayer {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payloadOffset: number;
  readonly payload: Uint8Array;
}

export type LayerProblem =
  'unsupported-link' | 'not-ip' | 'truncated' | 'malformed' | 'ip-fragment' | 'other-transport';

export interface DissectedPacket {
  readonly number: number;
  /** File offset of the packet data: add a layer's offset to point into the file. */
  readonly fileOffset: number;
  readonly ip?: IpLayer;
  readonly tcp?: TcpLayer;
  readonly udp?: UdpLayer;
  /** Set when dissection stopped before a transport payload. */
  readonly problem?: LayerProblem;
  /** Set when the IP datagram is longer than what was captured (snap length). */
  readonly cut?: boolean;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);

/** Offset of the IP header and its EtherType, or a problem. */
function linkPayload(
  linkType: number,
  d: Uint8Array,
): { at: number; ethertype?: number } | LayerProblem {
  switch (linkType) {
    case 1: {
      let at = 12;
      let type = u16be(d, at);
      for (let tags = 0; type !== undefined && VLAN_TAGS.has(type) && tags < 2; tags++) {
        at += 4;
        type = u16be(d, at);
      }
      return type === undefined ? 'truncated' : { at: at + 2, ethertype: type };
    }
    case 113: {
      const type = u16be(d, 14);
      return type === undefined ? 'truncated' : { at: 16, ethertype: type };
    }
    case 276: {
      const type = u16be(d, 0);
      return d.length < 20 || type === undefined ? 'truncated' : { at: 20, ethertype: type };
    }
    case 101:
    case 228:
    case 229:
      return { at: 0 };
    case 0: {
      if (d.length < 4) return 'truncated';
      const be = u32be(d, 0) as number;
      const le =
        ((d[3] as number) << 24) |
        ((d[2] as number) << 16) |
        ((d[1] as number) << 8) |
        (d[0] as number);
      const family = be < 256 ? be : le;
      if (family === 2) return { at: 4, ethertype: ETHERTYPE_IPV4 };
      if (family === 24 || family === 28 || family === 30)
        return { at: 4, ethertype: ETHERTYPE_IPV6 };
      return 'not-ip';
    }
    default:
      return 'unsupported-link';
  }
}

interface IpParse {
  readonly ip: IpLayer;
  /** The transport header and payload, cut at the datagram's stated length. */
  readonly payloadAt: number;
  readonly payloadEnd: number;
  readonly fragment: boolean;
  readonly cut: boolean;
}

function parseIPv4Header(d: Uint8Array, at: number): IpParse | LayerProblem {
  if (d.length < at + 20) return 'truncated';
  const vihl = d[at] as number;
  if (vihl >> 4 !== 4) return 'malformed';
  const ihl = (vihl & 15) * 4;
  const total = u16be(d, at + 2) as number;
  if (ihl < 20 || total < ihl) return 'malformed';
  if (d.length < at + ihl) return 'truncated';
  const flagsFrag = u16be(d, at + 6) as number;
  const end = Math.min(d.length, at + total);
  return {
    ip: {
      version: 4,
      src: formatIPv4(d.subarray(at + 12, at + 16)),
      dst: formatIPv4(d.subarray(at + 16, at + 20)),
      protocol: d[at + 9] as number,
      offset: at,
    },
    payloadAt: at + ihl,
    payloadEnd: end,
    fragment: (flagsFrag & 0x2000) !== 0 || (flagsFrag & 0x1fff) !== 0,
    cut: at + total > d.length,
  };
}

function parseIPv6Header(d: Uint8Array, at: number): IpParse | LayerProblem {
  if (d.length < at + 40) return 'truncated';
  if ((d[at] as number) >> 4 !== 6) return 'malformed';
  const payloadLength = u16be(d, at + 4) as number;
  const datagramEnd = at + 40 + payloadLength;
  let next = d[at + 6] as number;
  let p = at + 40;
  let fragment = false;
  // Bounded: at most 8 extension headers, each at least 8 bytes long.
  for (let n = 0; n < 8; n++) {
    if (next === 0 || next === 43 || next === 60 || next === 51 || next === 44) {
      if (d.length < p + 8 || p + 8 > datagramEnd) return 'truncated';
      const len =
        next === 44
          ? 8
          : next === 51
            ? ((d[p + 1] as number) + 2) * 4
            : ((d[p + 1] as number) + 1) * 8;
      if (next === 44) fragment = ((u16be(d, p + 2) as number) & 0xfff9) !== 0;
      next = d[p] as number;
      p += len;
      continue;
    }
    break;
  }
  if (p > datagramEnd) return 'malformed';
  return {
    ip: {
      version: 6,
      src: formatIPv6(d.subarray(at + 8, at + 24)),
      dst: formatIPv6(d.subarray(at + 24, at + 40)),
      protocol: next,
      offset: at,
    },
    payloadAt: p,
    payloadEnd: Math.min(d.length, datagramEnd),
    fragment,
    cut: datagramEnd > d.length,
  };
}

export function dissectPacket(packet: CapturedPacket): DissectedPacket {
  const d = packet.data;
  const base = { number: packet.number, fileOffset: packet.fileOffset };
  const link = linkPayload(packet.linkType, d);
  if (typeof link === 'string') return { ...base, problem: link };
  let version =
    link.ethertype === ETHERTYPE_IPV4 ? 4 : link.ethertype === ETHERTYPE_IPV6 ? 6 : undefined;
  if (link.ethertype === undefined) {
    const nibble = d[link.at] === undefined ? undefined : (d[link.at] as number) >> 4;
    if (nibble === undefined) return { ...base, problem: 'truncated' };
    version = nibble === 4 ? 4 : nibble === 6 ? 6 : undefined;
  }
  if (version === undefined) return { ...base, problem: 'not-ip' };
  const parsed = version === 4 ? parseIPv4Header(d, link.at) : parseIPv6Header(d, link.at);
  if (typeof parsed === 'string') return { ...base, problem: parsed };
  const { ip, payloadAt, payloadEnd, cut } = parsed;
  if (parsed.fragment) return { ...base, ip, cut, problem: 'ip-fragment' };
  if (ip.protocol === 6) {
    if (payloadEnd < payloadAt + 20) return { ...base, ip, cut, problem: 'truncated' };
    const dataOffset = ((d[payloadAt + 12] as number) >> 4) * 4;
    if (dataOffset < 20) return { ...base, ip, cut, problem: 'malformed' };
    if (payloadEnd < payloadAt + dataOffset) return { ...base, ip, cut, problem: 'truncated' };
    const flags = d[payloadAt + 13] as number;
    return {
      ...base,
      ip,
      cut,
      tcp: {
        srcPort: u16be(d, payloadAt) as number,
        dstPort: u16be(d, payloadAt + 2) as number,
        seq: u32be(d, payloadAt + 4) as number,
        ack: u32be(d, payloadAt + 8) as number,
        fin: (flags & 0x01) !== 0,
        syn: (flags & 0x02) !== 0,
        rst: (flags & 0x04) !== 0,
        ackFlag: (flags & 0x10) !== 0,
        payloadOffset: payloadAt + dataOffset,
        payload: d.subarray(payloadAt + dataOffset, payloadEnd),
      },
    };
  }
  if (ip.protocol === 17) {
    if (payloadEnd < payloadAt + 8) return { ...base, ip, cut, problem: 'truncated' };
    const length = u16be(d, payloadAt + 4) as number;
    if (length < 8) return { ...base, ip, cut, problem: 'malformed' };
    return {
      ...base,
      ip,
      cut,
      udp: {
        srcPort: u16be(d, payloadAt) as number,
        dstPort: u16be(d, payloadAt + 2) as number,
        payloadOffset: payloadAt + 8,
        payload: d.subarray(payloadAt + 8, Math.min(payloadEnd, payloadAt + length)),
      },
    };
  }
  return { ...base, ip, cut, problem: 'other-transport' };
}
