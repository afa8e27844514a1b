export { BhttpError, isBhttpError, type BhttpErrorKind } from './errors.ts';
export {
  DEFAULT_LIMITS,
  type BhttpLimits,
  type BhttpRequest,
  type BhttpResponse,
  type Field,
  type Framing,
  type InformationalResponse,
  type RequestControl,
} from './message.ts';
export {
  encodeRequest,
  encodeResponse,
  encodeIndeterminateRequestHead,
  encodeIndeterminateResponseHead,
  encodeContentChunk,
  encodeIndeterminateTail,
  FRAMING_KNOWN_REQUEST,
  FRAMING_KNOWN_RESPONSE,
  FRAMING_INDETERMINATE_REQUEST,
  FRAMING_INDETERMINATE_RESPONSE,
  type EncodeOptions,
} from './encode.ts';
export { BhttpParser, type BhttpEvent, type BhttpParserOptions } from './parser.ts';
export { decodeRequest, decodeResponse, type Decoded } from './decode.ts';
