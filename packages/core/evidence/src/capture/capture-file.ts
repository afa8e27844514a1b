/**
 * Capture files: classic libpcap and pcapng, read as a stream of packets.
 *
 * Classic pcap (draft-ietf-opsawg-pcap §4, §5), in the writer's byte order, told apart by the
 * magic: a1b2c3d4 (microseconds) or a1b23c4d (nanoseconds), either way round:
 *
 *   File Header (24) {                       Packet Record {
 *     Magic Number (32),                       Timestamp (Seconds) (32),
 *     Major Version (16), Minor Version (16),  Timestamp (Micro or nanoseconds) (32),
 *     Reserved1 (32), Reserved2 (32),          Captured Packet Length (32),
 *     SnapLen (32),                            Original Packet Length (32),
 *     LinkType and additional information (32) Packet Data (..),
 *   }                                        }
 *
 * pcapng (draft-ietf-opsawg-pcapng §3, §4): blocks of
 *   Block Type (32), Block Total Length (32), Block Body (..), Block Total Length (32)
 * read here: Section Header (0x0A0D0D0A, whose Byte-Order Magic 0x1A2B3C4D sets the order of
 * its section), Interface Description (1: link type, snaplen, if_tsresol), Enhanced Packet
 * (6), Simple Packet (3) and the obsolete Packet Block (2). Other blocks are skipped.
 *
 * tcpdump writes classic pcap (`-w`; `--time-stamp-precision=nano` gives the nanosecond
 * magic); pcapng is what dumpcap and Wireshark write, and is read so their captures work too.
 *
 * Packets are numbered from 1 in file order, as tcpdump `-#` and Wireshark number them, so
 * "packet 17" means the same frame in every tool. Memory is bounded: a record or block longer
 * than `maxPacketBytes` (+ 64 KiB of block overhead) fails as 'too-large' as soon as its
 * length is read, before any of it is buffered.
 */
import { u16, u32 } from '../bytes.ts';
import { EvidenceError } from '../errors.ts';

export interface CapturedPacket {
  /** 1-based, in file order. */
  readonly number: number;
  /** Byte offset in the file of the packet's first data byte. */
  readonly fileOffset: number;
  readonly linkType: number;
  readonly seconds: number;
  readonly nanoseconds: number;
  readonly originalLength: number;
  /** The captured bytes (may be shorter than `originalLength`: the snap length). */
  readonly data: Uint8Array;
}

export interface CaptureInfo {
  readonly format: 'pcap' | 'pcapng';
  readonly littleEndian: boolean;
}

export interface CaptureParserOptions {
  readonly onPacket: (packet: CapturedPacket) => void;
  readonly onInfo?: (info: CaptureInfo) => void;
  /** Largest captured length accepted. Default 262144 (tcpdump's default snap length). */
  readonly maxPacketBytes?: number;
}

export const DEFAULT_MAX_PACKET_BYTES = 262144;
const BLOCK_OVERHEAD = 65536;

const SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

interface Interface {
  readonly linkType: number;
  readonly snapLength: number;
  /** Timestamp units per second, as a bigint (10^6 unless if_tsresol says otherwise). */
  readonly unitsPerSecond: bigint;
}

export class CaptureParser {
  readonly #onPacket: (packet: CapturedPacket) => void;
  readonly #onInfo: ((info: CaptureInfo) => void) | undefined;
  readonly #maxPacket: number;
  /** Unconsumed bytes, and the file offset of their first byte. */
  #buf: Uint8Array = new Uint8Array(0);
  #bufOffset = 0;
  #format: 'pcap' | 'pcapng' | undefined;
  #little = false;
  #nanos = false;
  #pcapLinkType = 0;
  #interfaces: Interface[] = [];
  #number = 0;
  #failure: { readonly error: unknown } | undefined;

  constructor(options: CaptureParserOptions) {
    this.#onPacket = options.onPacket;
    this.#onInfo = options.onInfo;
    this.#maxPacket = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  }

  /** Packets emitted so far. */
  get packetCount(): number {
    return this.#number;
  }

  /** True between records: `end()` now would not throw. */
  get atBoundary(): boolean {
    return this.#format !== undefined && this.#buf.length === 0;
  }

  push(chunk: Uint8Array): void {
    if (this.#failure) throw this.#failure.error;
    try {
      this.#buf = this.#buf.length === 0 ? chunk : concat2(this.#buf, chunk);
      this.#consume();
      // What is left waits for the next push: own it, since the caller may reuse `chunk`.
      if (this.#buf.length > 0 && this.#buf.buffer === chunk.buffer) {
        this.#buf = new Uint8Array(this.#buf);
      }
    } catch (error) {
      this.#failure = { error };
      throw error;
    }
  }

  /** The file ended: anything left over is a truncated header or record. */
  end(): void {
    if (this.#failure) throw this.#failure.error;
    if (!this.atBoundary) {
      const error = new EvidenceError(
        'incomplete',
        this.#bufOffset,
        this.#format === undefined
          ? 'capture ends inside its file header'
          : 'capture ends inside a record',
      );
      this.#failure = { error };
      throw error;
    }
  }

  #consume(): void {
    for (;;) {
      const used =
        this.#format === 'pcapng' || (this.#format === undefined && this.#isPcapng())
          ? this.#pcapngBlock()
          : this.#pcapUnit();
      if (used === 0) return;
      this.#buf = this.#buf.subarray(used);
      this.#bufOffset += used;
    }
  }

  #isPcapng(): boolean {
    return this.#buf.length >= 4 && u32(this.#buf, 0, false) === SHB;
  }

  /** The classic file header or one packet record; returns bytes used, 0 if more are needed. */
  #pcapUnit(): number {
    const b = this.#buf;
    if (this.#format === undefined) {
      if (b.length < 24) {
        if (b.length >= 4 && magicOf(b) === undefined) throw this.#unsupported();
        return 0;
      }
      const magic = magicOf(b);
      if (!magic) throw this.#unsupported();
      this.#format = 'pcap';
      this.#little = magic.little;
      this.#nanos = magic.nanos;
      const major = u16(b, 4, this.#little) as number;
      if (major !== 2)
        throw new EvidenceError('unsupported', this.#bufOffset + 4, 'pcap major version is not 2');
      // The upper bits carry FCS information (draft-ietf-opsawg-pcap §4): the link type is the low 16.
      this.#pcapLinkType = (u32(b, 20, this.#little) as number) & 0xffff;
      this.#onInfo?.({ format: 'pcap', littleEndian: this.#little });
      return 24;
    }
    if (b.length < 16) return 0;
    const seconds = u32(b, 0, this.#little) as number;
    const fraction = u32(b, 4, this.#little) as number;
    const captured = u32(b, 8, this.#little) as number;
    const original = u32(b, 12, this.#little) as number;
    if (captured > this.#maxPacket) {
      throw new EvidenceError(
        'too-large',
        this.#bufOffset + 8,
        `captured length above ${this.#maxPacket}`,
      );
    }
    if (fraction >= (this.#nanos ? 1e9 : 1e6)) {
      throw new EvidenceError('invalid', this.#bufOffset + 4, 'timestamp fraction out of range');
    }
    if (b.length < 16 + captured) return 0;
    this.#emit(
      this.#pcapLinkType,
      seconds,
      this.#nanos ? fraction : fraction * 1000,
      original,
      b,
      16,
      captured,
    );
    return 16 + captured;
  }

  #pcapngBlock(): number {
    const b = this.#buf;
    if (b.length < 12) return 0;
    let little = this.#little;
    const type = u32(b, 0, little) as number;
    if (type === SHB) {
      const magic = u32(b, 8, false) as number;
      if (magic === BYTE_ORDER_MAGIC) little = false;
      else if (u32(b, 8, true) === BYTE_ORDER_MAGIC) little = true;
      else throw new EvidenceError('invalid', this.#bufOffset + 8, 'bad pcapng byte-order magic');
    }
    const length = u32(b, 4, little) as number;
    if (length < 12 || length % 4 !== 0) {
      throw new EvidenceError(
        'invalid',
        this.#bufOffset + 4,
        'pcapng block length not a multiple of 4 and at least 12',
      );
    }
    if (length > this.#maxPacket + BLOCK_OVERHEAD) {
      throw new EvidenceError(
        'too-large',
        this.#bufOffset + 4,
        'pcapng block above the size limit',
      );
    }
    if (b.length < length) return 0;
    if (u32(b, length - 4, little) !== length) {
      throw new EvidenceError(
        'invalid',
        this.#bufOffset + length - 4,
        'pcapng trailing block length differs',
      );
    }
    const body = b.subarray(8, length - 4);
    const bodyOffset = 8;
    if (type === SHB) {
      if (body.length < 16)
        throw new EvidenceError('invalid', this.#bufOffset, 'short section header');
      if (u16(body, 4, little) !== 1) {
        throw new EvidenceError(
          'unsupported',
          this.#bufOffset + 12,
          'pcapng major version is not 1',
        );
      }
      const first = this.#format === undefined;
      this.#format = 'pcapng';
      this.#little = little;
      this.#interfaces = [];
      if (first) this.#onInfo?.({ format: 'pcapng', littleEndian: little });
      return length;
    }
    if (this.#format === undefined) throw this.#unsupported();
    switch (type) {
      case 1: {
        if (body.length < 8)
          throw new EvidenceError('invalid', this.#bufOffset, 'short interface description');
        this.#interfaces.push({
          linkType: u16(body, 0, little) as number,
          snapLength: u32(body, 4, little) as number,
          unitsPerSecond: this.#tsresol(body.subarray(8), this.#bufOffset + bodyOffset + 8),
        });
        return length;
      }
      case 6:
      case 2: {
        if (body.length < 20)
          throw new EvidenceError('invalid', this.#bufOffset, 'short packet block');
        const id = type === 6 ? (u32(body, 0, little) as number) : (u16(body, 0, little) as number);
        const iface = this.#iface(id);
        const high = BigInt(u32(body, 4, little) as number);
        const low = BigInt(u32(body, 8, little) as number);
        const captured = u32(body, 12, little) as number;
        const original = u32(body, 16, little) as number;
        if (captured > body.length - 20) {
          throw new EvidenceError(
            'invalid',
            this.#bufOffset + bodyOffset + 12,
            'captured length beyond its block',
          );
        }
        const units = (high << 32n) | low;
        const seconds = units / iface.unitsPerSecond;
        const nanos = ((units % iface.unitsPerSecond) * 1_000_000_000n) / iface.unitsPerSecond;
        this.#emit(
          iface.linkType,
          Number(seconds),
          Number(nanos),
          original,
          b,
          bodyOffset + 20,
          captured,
        );
        return length;
      }
      case 3: {
        if (body.length < 4)
          throw new EvidenceError('invalid', this.#bufOffset, 'short simple packet block');
        const iface = this.#iface(0);
        const original = u32(body, 0, little) as number;
        const room = body.length - 4;
        const captured = Math.min(original, room, iface.snapLength === 0 ? room : iface.snapLength);
        this.#emit(iface.linkType, 0, 0, original, b, bodyOffset + 4, captured);
        return length;
      }
      default:
        return length;
    }
  }

  /** if_tsresol (option 9): 10^-n, or 2^-n when the top bit is set; default microseconds. */
  #tsresol(options: Uint8Array, offset: number): bigint {
    let at = 0;
    for (let n = 0; at + 4 <= options.length && n < 256; n++) {
      const code = u16(options, at, this.#little) as number;
      const len = u16(options, at + 2, this.#little) as number;
      if (code === 0) break;
      if (at + 4 + len > options.length)
        throw new EvidenceError('invalid', offset + at, 'option beyond its block');
      if (code === 9 && len >= 1) {
        const v = options[at + 4] as number;
        const exp = BigInt(v & 0x7f);
        if ((v & 0x80) === 0 ? exp > 18n : exp > 62n) {
          throw new EvidenceError(
            'unsupported',
            offset + at + 4,
            'timestamp resolution out of range',
          );
        }
        return (v & 0x80) === 0 ? 10n ** exp : 1n << exp;
      }
      at += 4 + ((len + 3) & ~3);
    }
    return 1_000_000n;
  }

  #iface(id: number): Interface {
    const iface = this.#interfaces[id];
    if (!iface)
      throw new EvidenceError('invalid', this.#bufOffset, 'packet names an undescribed interface');
    return iface;
  }

  #emit(
    linkType: number,
    seconds: number,
    nanoseconds: number,
    originalLength: number,
    b: Uint8Array,
    at: number,
    captured: number,
  ): void {
    this.#onPacket({
      number: ++this.#number,
      fileOffset: this.#bufOffset + at,
      linkType,
      seconds,
      nanoseconds,
      originalLength,
      // A copy, as a plain Uint8Array: the chunk it came from belongs to the caller.
      data: new Uint8Array(b.subarray(at, at + captured)),
    });
  }

  #unsupported(): EvidenceError {
    return new EvidenceError('unsupported', this.#bufOffset, 'not a pcap or pcapng file');
  }
}

function magicOf(b: Uint8Array): { little: boolean; nanos: boolean } | undefined {
  const be = u32(b, 0, false);
  if (be === 0xa1b2c3d4) return { little: false, nanos: false };
  if (be === 0xa1b23c4d) return { little: false, nanos: true };
  if (be === 0xd4c3b2a1) return { little: true, nanos: false };
  if (be === 0x4d3cb2a1) return { little: true, nanos: true };
  return undefined;
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export interface ParsedCapture {
  readonly info: CaptureInfo;
  readonly packets: readonly CapturedPacket[];
}

/** A whole file at once; a strict prefix that ends inside a record throws 'incomplete'. */
export function parseCapture(
  bytes: Uint8Array,
  options: { maxPacketBytes?: number } = {},
): ParsedCapture {
  const packets: CapturedPacket[] = [];
  let info: CaptureInfo | undefined;
  const parser = new CaptureParser({
    onPacket: (p) => packets.push(p),
    onInfo: (i) => (info = i),
    maxPacketBytes: options.maxPacketBytes,
  });
  parser.push(bytes);
  parser.end();
  return { info: info as CaptureInfo, packets };
}
