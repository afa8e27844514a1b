export {
  RelayError,
  isRelayError,
  toRelayError,
  codeFromResponse,
  specOf,
  relayErrorCodes,
  RETRY_AFTER_SECONDS,
  type RelayErrorCode,
  type RelayErrorOptions,
  type ProxyErrorType,
  type Fault,
} from './relay-error.ts';
export {
  formatProxyStatus,
  parseProxyStatus,
  proxyStatusFor,
  sfString,
  type ProxyStatusMember,
} from './proxy-status.ts';
export { http1Refusal, parserErrorToRelayError } from './http1-refusal.ts';
export { refusalHeaders } from './refusal-headers.ts';
export {
  refusalFromResponse,
  parseRetryAfter,
  MAX_RETRY_AFTER_SECONDS,
  type ResponseHeaders,
  type ResponseRefusalOptions,
  type HeaderValue,
} from './response-refusal.ts';
