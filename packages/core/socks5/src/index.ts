export {
  SocksMethod,
  SocksReply,
  Socks5Error,
  isSocks5Error,
  socksReplyFor,
  type SocksReplyCode,
} from './codes.ts';
export { type DecodeResult } from './decode-result.ts';
export {
  Atyp,
  decodeAddress,
  encodeAddress,
  type SocksAddress,
  type SocksTarget,
} from './address.ts';
export {
  SOCKS_VERSION,
  decodeGreeting,
  encodeGreeting,
  decodeMethodSelection,
  encodeMethodSelection,
  type Greeting,
} from './greeting.ts';
export { decodeRequest, encodeRequest, type Socks5Command, type Socks5Request } from './request.ts';
export { decodeReply, encodeReply, type Socks5Reply } from './reply.ts';
export { decodeUdpHeader, encodeUdpHeader, type Socks5UdpDatagram } from './udp.ts';
