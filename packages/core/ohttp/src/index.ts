export {
  OhttpError,
  isOhttpError,
  OHTTP_KEY_PROBLEM_TYPE,
  type OhttpErrorReason,
} from './errors.ts';
export {
  decodeKeyConfig,
  encodeKeyConfig,
  decodeKeys,
  encodeKeys,
  publicKeyLength,
  OHTTP_KEYS_MEDIA_TYPE,
  type KeyConfig,
  type SymmetricAlgorithm,
} from './key-config.ts';
export { BHTTP_LABELS, CHUNKED_BHTTP_LABELS, MEDIA_TYPES, type Labels } from './header.ts';
export {
  encapsulateRequest,
  decapsulateResponse,
  type ClientContext,
  type ClientOptions,
  type ClientRequest,
  type ClientResponseContext,
} from './client.ts';
export {
  createGateway,
  type Gateway,
  type GatewayKeyInput,
  type GatewayOptions,
  type GatewayResponseContext,
} from './gateway.ts';
export {
  encapsulateChunkedRequest,
  ChunkedRequestDecoder,
  ChunkedResponseDecoder,
  ChunkedResponseEncoder,
  DEFAULT_MAX_CHUNK_BYTES,
  type ChunkedDecoderOptions,
  type ChunkedRequestWriter,
} from './chunked.ts';
export { DOH_AUTHORITY, DOH_PATH } from './well-known.ts';
