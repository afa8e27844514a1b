/**
 * Replies, RFC 1928 §6:
 *
 *   +-----+-----+-------+------+----------+----------+
 *   | VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |
 *   +-----+-----+-------+------+----------+----------+
 *   |  1  |  1  | X'00' |  1   | Variable |    2     |
 *   +-----+-----+-------+------+----------+----------+
 *
 * A relayed CONNECT has no meaningful local bound address (the real socket is at the egress,
 * and the client must not learn it from us), so the default BND is 0.0.0.0:0.
 */
import { Socks5Error } from './codes.ts';
import { decodeAddress, encodeAddress, type SocksAddress, type SocksTarget } from './address.ts';
import { decoded, incomplete, type DecodeResult } from './decode-result.ts';
import { SOCKS_VERSION } from './greeting.ts';

export interface Socks5Reply extends SocksAddress {
  /** REP: 0x00 success, 0x01..0x08 the failures of SocksReply, others unassigned. */
  readonly reply: number;
}

const unspecified: SocksTarget = { host: '0.0.0.0', port: 0 };

export function encodeReply(reply: number, bound: SocksTarget = unspecified): Uint8Array {
  if (!Number.isInteger(reply) || reply < 0 || reply > 0xff) {
    throw new Socks5Error('malformed-request', 'a reply code is one byte');
  }
  const addr = encodeAddress(bound);
  const out = new Uint8Array(3 + addr.length);
  out.set([SOCKS_VERSION, reply, 0x00]);
  out.set(addr, 3);
  return out;
}

export function decodeReply(buf: Uint8Array): DecodeResult<Socks5Reply> {
  if (buf.length < 1) return incomplete;
  if (buf[0] !== SOCKS_VERSION) throw new Socks5Error('malformed-request', 'not SOCKS version 5');
  if (buf.length < 3) return incomplete;
  if (buf[2] !== 0x00) throw new Socks5Error('malformed-request', 'reserved byte is not zero');
  const addr = decodeAddress(buf, 3);
  if (addr === undefined) return incomplete;
  return decoded({ reply: buf[1] as number, ...addr.address }, addr.end);
}
