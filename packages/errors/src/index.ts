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
