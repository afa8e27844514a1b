/** Hand-built capture files for the tests: frames, then a pcap or pcapng around them. */

export const hex = (s: string): Uint8Array =>
  Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

const be16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const be32 = (n: number): number[] => [
  (n >>> 24) & 0xff,
  (n >>> 16) & 0xff,
  (n >>> 8) & 0xff,
  n & 0xff,
];

export function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

export interface TcpSpec {
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
  readonly seq: number;
  readonly ack?: number;
  readonly flags?: { syn?: boolean; ack?: boolean; fin?: boolean; rst?: boolean; psh?: boolean };
  readonly payload?: Uint8Array;
}

export function tcpSegment(s: TcpSpec): Uint8Array {
  const f = s.flags ?? { ack: true, psh: true };
  const flags =
    (f.fin ? 1 : 0) | (f.syn ? 2 : 0) | (f.rst ? 4 : 0) | (f.psh ? 8 : 0) | (f.ack ? 16 : 0);
  return concat([
    Uint8Array.from([
      ...be16(s.sport),
      ...be16(s.dport),
      ...be32(s.seq),
      ...be32(s.ack ?? 0),
      0x50,
      flags,
      ...be16(65535),
      0,
      0,
      0,
      0,
    ]),
    s.payload ?? new Uint8Array(0),
  ]);
}

export function udpDatagram(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return concat([
    Uint8Array.from([...be16(sport), ...be16(dport), ...be16(8 + payload.length), 0, 0]),
    payload,
  ]);
}

export function ipv4Packet(
  src: string,
  dst: string,
  protocol: number,
  payload: Uint8Array,
  fragment = 0,
): Uint8Array {
  const total = 20 + payload.length;
  return concat([
    Uint8Array.from([
      0x45,
      0,
      ...be16(total),
      0,
      1,
      ...be16(fragment),
      64,
      protocol,
      0,
      0,
      ...ipv4Bytes(src),
      ...ipv4Bytes(dst),
    ]),
    payload,
  ]);
}

export function ipv6Packet(
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  payload: Uint8Array,
): Uint8Array {
  return concat([
    Uint8Array.from([0x60, 0, 0, 0, ...be16(payload.length), nextHeader, 64]),
    src,
    dst,
    payload,
  ]);
}

export function tcpv4(s: TcpSpec): Uint8Array {
  return ipv4Packet(s.src, s.dst, 6, tcpSegment(s));
}

export function ethernet(ip: Uint8Array, ethertype = 0x0800, vlan?: number): Uint8Array {
  const tag = vlan === undefined ? [] : [0x81, 0x00, ...be16(vlan)];
  return concat([
    Uint8Array.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, ...tag, ...be16(ethertype)]),
    ip,
  ]);
}

export function sll(ip: Uint8Array, protocol = 0x0800): Uint8Array {
  return concat([
    Uint8Array.from([0, 0, ...be16(772), 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, ...be16(protocol)]),
    ip,
  ]);
}

export function sll2(ip: Uint8Array, protocol = 0x0800): Uint8Array {
  return concat([
    Uint8Array.from([
      ...be16(protocol),
      0,
      0,
      0,
      0,
      0,
      1,
      ...be16(772),
      0,
      6,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]),
    ip,
  ]);
}

export interface PcapOptions {
  readonly linkType?: number;
  readonly littleEndian?: boolean;
  readonly nanoseconds?: boolean;
}

export function pcap(frames: readonly Uint8Array[], options: PcapOptions = {}): Uint8Array {
  const le = options.littleEndian ?? true;
  const w32 = (n: number): number[] => (le ? be32(n).reverse() : be32(n));
  const w16 = (n: number): number[] => (le ? be16(n).reverse() : be16(n));
  const magic = options.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4;
  const header = Uint8Array.from([
    ...w32(magic),
    ...w16(2),
    ...w16(4),
    ...w32(0),
    ...w32(0),
    ...w32(262144),
    ...w32(options.linkType ?? 1),
  ]);
  const records = frames.map((f, i) =>
    concat([
      Uint8Array.from([
        ...w32(1700000000 + i),
        ...w32(options.nanoseconds ? 123456789 : 123456),
        ...w32(f.length),
        ...w32(f.length),
      ]),
      f,
    ]),
  );
  return concat([header, ...records]);
}

/** pcapng: a section header, one interface, then an enhanced packet block per frame. */
export function pcapng(
  frames: readonly Uint8Array[],
  options: { linkType?: number; littleEndian?: boolean; tsresol?: number } = {},
): Uint8Array {
  const le = options.littleEndian ?? true;
  const w32 = (n: number): number[] => (le ? be32(n).reverse() : be32(n));
  const w16 = (n: number): number[] => (le ? be16(n).reverse() : be16(n));
  const block = (type: number, body: number[]): Uint8Array => {
    const padded = [...body, ...new Array<number>((4 - (body.length % 4)) % 4).fill(0)];
    const length = 12 + padded.length;
    return Uint8Array.from([...w32(type), ...w32(length), ...padded, ...w32(length)]);
  };
  const shb = block(0x0a0d0d0a, [
    ...w32(0x1a2b3c4d),
    ...w16(1),
    ...w16(0),
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
  ]);
  const opts =
    options.tsresol === undefined
      ? []
      : [...w16(9), ...w16(1), options.tsresol, 0, 0, 0, ...w16(0), ...w16(0)];
  const idb = block(1, [...w16(options.linkType ?? 1), 0, 0, ...w32(0), ...opts]);
  const custom = block(0x0bad, [1, 2, 3, 4]);
  const epbs = frames.map((f, i) =>
    block(6, [
      ...w32(0),
      ...w32(0),
      ...w32((1_000_000 * (1700000000 + i)) % 2 ** 32),
      ...w32(f.length),
      ...w32(f.length),
      ...f,
    ]),
  );
  return concat([shb, idb, custom, ...epbs]);
}

/** A TCP conversation, client then server, with SYN/SYN-ACK/ACK and sequence numbers kept. */
export function conversation(
  client: { ip: string; port: number },
  server: { ip: string; port: number },
  turns: readonly { fromClient: boolean; data: Uint8Array }[],
  isn = { client: 1000, server: 5000 },
): Uint8Array[] {
  let cseq = isn.client;
  let sseq = isn.server;
  const c = { src: client.ip, dst: server.ip, sport: client.port, dport: server.port };
  const s = { src: server.ip, dst: client.ip, sport: server.port, dport: client.port };
  const out: Uint8Array[] = [
    tcpv4({ ...c, seq: cseq, flags: { syn: true } }),
    tcpv4({ ...s, seq: sseq, ack: cseq + 1, flags: { syn: true, ack: true } }),
  ];
  cseq++;
  sseq++;
  out.push(tcpv4({ ...c, seq: cseq, ack: sseq, flags: { ack: true } }));
  for (const t of turns) {
    if (t.fromClient) {
      out.push(tcpv4({ ...c, seq: cseq, ack: sseq, payload: t.data }));
      cseq += t.data.length;
    } else {
      out.push(tcpv4({ ...s, seq: sseq, ack: cseq, payload: t.data }));
      sseq += t.data.length;
    }
  }
  return out.map((ip) => ethernet(ip));
}

/** A TLS record of the given type around `fragment`. */
export function tlsRecord(type: number, fragment: Uint8Array, version = 0x0303): Uint8Array {
  return concat([Uint8Array.from([type, ...be16(version), ...be16(fragment.length)]), fragment]);
}
