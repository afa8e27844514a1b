export {
  RelayError,
  isRelayError,
  toRelayError,
  codeFromResponse,
  specOf,
  relayErrorCodes,
  type RelayErrorCode,
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
export { http1Refusal, parserErrorToRelayError, RETRY_AFTER_SECONDS } from './http1-refusal.ts';
