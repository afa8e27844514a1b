/**
 * Requests, RFC 1928 §4:
 *
 *   +-----+-----+-------+------+----------+----------+
 *   | VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |
 *   +-----+-----+-------+------+----------+----------+
 *   |  1  |  1  | X'00' |  1   | Variable |    2     |
 *   +-----+-----+-------+------+----------+----------+
 *   CMD: CONNECT X'01', BIND X'02', UDP ASSOCIATE X'03'
 */
import { Socks5Error, SocksReply } from './codes.ts';
import { decodeAddress, encodeAddress, type SocksAddress, type SocksTarget } from './address.ts';
import { decoded, incomplete, type DecodeResult } from './decode-result.ts';
import { SOCKS_VERSION } from './greeting.ts';

export type Socks5Command = 'connect' | 'bind' | 'udp-associate';

const commandCodes: Record<Socks5Command, number> = {
  connect: 0x01,
  bind: 0x02,
  'udp-associate': 0x03,
};
const commandsByCode = new Map<number, Socks5Command>(
  Object.entries(commandCodes).map(([name, code]) => [code, name as Socks5Command]),
);

export interface Socks5Request extends SocksAddress {
  readonly command: Socks5Command;
}

export function decodeRequest(buf: Uint8Array): DecodeResult<Socks5Request> {
  if (buf.length < 1) return incomplete;
  if (buf[0] !== SOCKS_VERSION) throw new Socks5Error('malformed-request', 'not SOCKS version 5');
  if (buf.length < 2) return incomplete;
  const command = commandsByCode.get(buf[1] as number);
  if (command === undefined) {
    throw new Socks5Error('method-not-allowed', 'unknown command', SocksReply.commandNotSupported);
  }
  if (buf.length < 3) return incomplete;
  if (buf[2] !== 0x00) throw new Socks5Error('malformed-request', 'reserved byte is not zero');
  const addr = decodeAddress(buf, 3);
  if (addr === undefined) return incomplete;
  return decoded({ command, ...addr.address }, addr.end);
}

export function encodeRequest(
  request: SocksTarget & { readonly command: Socks5Command },
): Uint8Array {
  const code = commandCodes[request.command];
  if (code === undefined) throw new Socks5Error('method-not-allowed', 'unknown command');
  const addr = encodeAddress(request);
  const out = new Uint8Array(3 + addr.length);
  out.set([SOCKS_VERSION, code, 0x00]);
  out.set(addr, 3);
  return out;
}
