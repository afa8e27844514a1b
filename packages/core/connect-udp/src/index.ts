export {
  decodeVarint,
  encodeVarint,
  varintLength,
  writeVarint,
  MAX_VARINT,
  type DecodeResult,
} from './varint.ts';
export { CapsuleError, isCapsuleError, type CapsuleErrorKind } from './capsule-error.ts';
export {
  CapsuleParser,
  encodeCapsule,
  encodeCapsuleHeader,
  DATAGRAM_CAPSULE_TYPE,
  DEFAULT_MAX_CAPSULE_BYTES,
  type Capsule,
  type CapsuleParserOptions,
} from './capsule.ts';
export {
  encodeUdpPayload,
  decodeUdpPayload,
  encodeDatagramCapsule,
  datagramCapsuleHeader,
  MAX_UDP_PAYLOAD,
  type UdpPayload,
} from './datagram.ts';
export { formatUdpPath, parseUdpPath, UDP_PATH_PREFIX, type UdpTarget } from './uri-template.ts';
