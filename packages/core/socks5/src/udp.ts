/**
 * UDP request header, RFC 1928 §7 (each datagram to and from the UDP relay carries one):
 *
 *   +-----+------+------+----------+----------+----------+
 *   | RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
 *   +-----+------+------+----------+----------+----------+
 *   |  2  |  1   |  1   | Variable |    2     | Variable |
 *   +-----+------+------+----------+----------+----------+
 *   RSV = X'0000'; FRAG = X'00' for a standalone datagram, else a fragment number
 *
 * A datagram is already whole, so "incomplete" here means a truncated datagram, which the
 * UDP relay drops. FRAG is decoded, not judged: RFC 1928 lets an implementation that does
 * not reassemble drop fragments, and that is the relay's decision.
 */
import { Socks5Error } from './codes.ts';
import { decodeAddress, encodeAddress, type SocksAddress, type SocksTarget } from './address.ts';
import { decoded, incomplete, type DecodeResult } from './decode-result.ts';

export interface Socks5UdpDatagram extends SocksAddress {
  readonly frag: number;
  /** The payload, a view into the input: copy it if the input buffer is reused. */
  readonly data: Uint8Array;
}

export function decodeUdpHeader(buf: Uint8Array): DecodeResult<Socks5UdpDatagram> {
  if (buf.length < 1) return incomplete;
  if (buf[0] !== 0x00) throw new Socks5Error('malformed-request', 'reserved bytes are not zero');
  if (buf.length < 2) return incomplete;
  if (buf[1] !== 0x00) throw new Socks5Error('malformed-request', 'reserved bytes are not zero');
  if (buf.length < 3) return incomplete;
  const frag = buf[2] as number;
  const addr = decodeAddress(buf, 3);
  if (addr === undefined) return incomplete;
  return decoded({ frag, ...addr.address, data: buf.subarray(addr.end) }, buf.length);
}

/** Header for `target`, followed by `data` when given (one buffer, ready for `send`). */
export function encodeUdpHeader(
  header: SocksTarget & { readonly frag?: number },
  data?: Uint8Array,
): Uint8Array {
  const frag = header.frag ?? 0;
  if (!Number.isInteger(frag) || frag < 0 || frag > 0xff) {
    throw new Socks5Error('malformed-request', 'FRAG is one byte');
  }
  const addr = encodeAddress(header);
  const out = new Uint8Array(3 + addr.length + (data?.length ?? 0));
  out.set([0x00, 0x00, frag]);
  out.set(addr, 3);
  if (data) out.set(data, 3 + addr.length);
  return out;
}
