/**
 * One error type for every layer of the relay. Each code already knows its HTTP status,
 * its RFC 9209 Proxy-Status error type, who is at fault and whether a retry may help, so
 * a handler writes exactly that and nothing else.
 */

/** RFC 9209 §2.3 error types used by SplitRelay. */
export type ProxyErrorType =
  | 'http_request_error'
  | 'http_request_denied'
  | 'destination_not_found'
  | 'destination_unavailable'
  | 'destination_ip_prohibited'
  | 'destination_ip_unroutable'
  | 'dns_error'
  | 'dns_timeout'
  | 'connection_refused'
  | 'connection_terminated'
  | 'connection_timeout'
  | 'connection_read_timeout'
  | 'connection_limit_reached'
  | 'tls_protocol_error'
  | 'tls_certificate_error'
  | 'proxy_internal_error'
  | 'proxy_configuration_error';

/** Who caused the failure: the side that sent the request, the other relay, the target, or us. */
export type Fault = 'downstream' | 'peer-relay' | 'upstream' | 'internal';

interface CodeSpec {
  /** What the refusal means, for the generated error table (docs/errors.md). */
  readonly summary: string;
  readonly status: number;
  readonly proxyError: ProxyErrorType;
  readonly fault: Fault;
  readonly retryable: boolean;
}

const specs = {
  'malformed-request': {
    summary: 'a malformed request or target',
    status: 400,
    proxyError: 'http_request_error',
    fault: 'downstream',
    retryable: false,
  },
  'headers-too-large': {
    summary: 'a request head over the size limit',
    status: 431,
    proxyError: 'http_request_error',
    fault: 'downstream',
    retryable: false,
  },
  // The Oblivious HTTP relay and gateway take request bodies: too large, of the wrong media
  // type, or not received in time.
  'content-too-large': {
    summary: 'a request body over the size limit',
    status: 413,
    proxyError: 'http_request_error',
    fault: 'downstream',
    retryable: false,
  },
  'unsupported-media-type': {
    summary: 'a request body of a media type this resource does not take',
    status: 415,
    proxyError: 'http_request_error',
    fault: 'downstream',
    retryable: false,
  },
  'request-timeout': {
    summary: 'a request body not received in time',
    status: 408,
    proxyError: 'http_request_error',
    fault: 'downstream',
    retryable: false,
  },
  'method-not-allowed': {
    summary: 'a method or protocol this relay does not serve',
    status: 405,
    proxyError: 'http_request_denied',
    fault: 'downstream',
    retryable: false,
  },
  'unknown-egress': {
    summary:
      'an egress not in the signed directory (or a target named to the ingress: never an open proxy)',
    status: 403,
    proxyError: 'http_request_denied',
    fault: 'downstream',
    retryable: false,
  },
  'egress-unavailable': {
    summary: 'the egress could not be reached',
    status: 502,
    proxyError: 'destination_unavailable',
    fault: 'peer-relay',
    retryable: true,
  },
  // Health says the egress is down: the ingress refuses at once, with Retry-After.
  'egress-down': {
    summary: 'health says the egress is down or draining',
    status: 503,
    proxyError: 'destination_unavailable',
    fault: 'peer-relay',
    retryable: true,
  },
  'egress-timeout': {
    summary: 'the egress did not answer in time',
    status: 504,
    proxyError: 'connection_timeout',
    fault: 'peer-relay',
    retryable: true,
  },
  'target-prohibited': {
    summary: 'a target address the policy refuses (private, loopback, metadata, ...)',
    status: 403,
    proxyError: 'destination_ip_prohibited',
    fault: 'downstream',
    retryable: false,
  },
  'port-prohibited': {
    summary: 'a target port the policy refuses',
    status: 403,
    proxyError: 'http_request_denied',
    fault: 'downstream',
    retryable: false,
  },
  'dns-error': {
    summary: 'the target name did not resolve (at the egress)',
    status: 502,
    proxyError: 'dns_error',
    fault: 'upstream',
    retryable: false,
  },
  'dns-timeout': {
    summary: 'the target name did not resolve in time',
    status: 504,
    proxyError: 'dns_timeout',
    fault: 'upstream',
    retryable: true,
  },
  'connection-refused': {
    summary: 'the target refused the connection',
    status: 502,
    proxyError: 'connection_refused',
    fault: 'upstream',
    retryable: true,
  },
  'connection-timeout': {
    summary: 'the target did not accept in time',
    status: 504,
    proxyError: 'connection_timeout',
    fault: 'upstream',
    retryable: true,
  },
  'destination-unreachable': {
    summary: 'no route to the target',
    status: 502,
    proxyError: 'destination_ip_unroutable',
    fault: 'upstream',
    retryable: true,
  },
  'connection-terminated': {
    summary: 'the connection ended before an answer',
    status: 502,
    proxyError: 'connection_terminated',
    fault: 'upstream',
    retryable: true,
  },
  'idle-timeout': {
    summary: 'no byte moved either way for too long',
    status: 504,
    proxyError: 'connection_read_timeout',
    fault: 'downstream',
    retryable: false,
  },
  // Privacy Pass (RFC 9577): no token, or one that does not redeem. Answered with a fresh
  // challenge in Proxy-Authenticate, so the client can fetch a token and try again.
  'token-required': {
    summary: 'no Privacy Pass token (407 with a challenge)',
    status: 407,
    proxyError: 'http_request_denied',
    fault: 'downstream',
    retryable: false,
  },
  'token-invalid': {
    summary: 'a bad, foreign, expired or spent token (407 with a fresh challenge)',
    status: 407,
    proxyError: 'http_request_denied',
    fault: 'downstream',
    retryable: false,
  },
  // Too many new sessions from one client address: slow down, then retry.
  'rate-limited': {
    summary: 'too many new sessions from one client address',
    status: 429,
    proxyError: 'http_request_denied',
    fault: 'downstream',
    retryable: true,
  },
  // The spent-token store cannot answer: redemption fails closed rather than allow a replay.
  'auth-unavailable': {
    summary: 'the spent-token store cannot answer: redemption fails closed',
    status: 503,
    proxyError: 'proxy_internal_error',
    fault: 'internal',
    retryable: true,
  },
  'limit-reached': {
    summary: 'a session or flow cap is reached',
    status: 503,
    proxyError: 'connection_limit_reached',
    fault: 'internal',
    retryable: true,
  },
  'tls-failed': {
    summary: 'a TLS handshake failed (an unknown ingress certificate is refused in the handshake)',
    status: 502,
    proxyError: 'tls_protocol_error',
    fault: 'peer-relay',
    retryable: true,
  },
  'pin-mismatch': {
    summary: 'the egress key is not one the directory pins',
    status: 502,
    proxyError: 'tls_certificate_error',
    fault: 'peer-relay',
    retryable: false,
  },
  'config-invalid': {
    summary: 'the relay is misconfigured',
    status: 500,
    proxyError: 'proxy_configuration_error',
    fault: 'internal',
    retryable: false,
  },
  internal: {
    summary: 'a bug: never a reason that could leak anything',
    status: 500,
    proxyError: 'proxy_internal_error',
    fault: 'internal',
    retryable: false,
  },
} as const satisfies Record<string, CodeSpec>;

export type RelayErrorCode = keyof typeof specs;

export interface RelayErrorOptions {
  readonly cause?: unknown;
  readonly retryAfterSeconds?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Seconds a client should wait before retrying an egress that health reports down. */
export const RETRY_AFTER_SECONDS = 5;

/** Codes whose refusal always says when to come back, unless the thrower says otherwise. */
const DEFAULT_RETRY_AFTER: Partial<Record<RelayErrorCode, number>> = {
  'egress-down': RETRY_AFTER_SECONDS,
  'auth-unavailable': RETRY_AFTER_SECONDS,
  'rate-limited': 1,
};

export const relayErrorCodes = Object.keys(specs) as RelayErrorCode[];

export class RelayError extends Error {
  override readonly name = 'RelayError';
  readonly code: RelayErrorCode;
  /** Short, safe-to-send explanation (goes into Proxy-Status `details`). Never a secret. */
  readonly details: string;

  /** Seconds the client should wait before retrying, sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined;
  /** Further response headers the refusal must carry (e.g. a Proxy-Authenticate challenge). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: RelayErrorCode, details: string, options?: RelayErrorOptions) {
    super(
      `${code}: ${details}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = options?.retryAfterSeconds ?? DEFAULT_RETRY_AFTER[code];
    this.headers = Object.freeze({ ...options?.headers });
  }

  get status(): number {
    return specs[this.code].status;
  }
  get proxyError(): ProxyErrorType {
    return specs[this.code].proxyError;
  }
  get fault(): Fault {
    return specs[this.code].fault;
  }
  get retryable(): boolean {
    return specs[this.code].retryable;
  }
}

export function specOf(code: RelayErrorCode): CodeSpec {
  return specs[code];
}

export function isRelayError(err: unknown): err is RelayError {
  return err instanceof RelayError;
}

/** Wraps anything thrown into a RelayError, keeping the original only as `cause`. */
export function toRelayError(err: unknown, fallback: RelayErrorCode = 'internal'): RelayError {
  if (err instanceof RelayError) return err;
  return new RelayError(fallback, fallback === 'internal' ? 'internal error' : fallback, {
    cause: err,
  });
}

/**
 * Maps a status and a Proxy-Status error type received from the next hop back to a code,
 * so a client (or the SOCKS5 side) can act on the egress's reason.
 */
export function codeFromResponse(status: number, proxyError: string | undefined): RelayErrorCode {
  if (proxyError !== undefined) {
    const matches = relayErrorCodes.filter((c) => specs[c].proxyError === proxyError);
    const exact = matches.find((c) => specs[c].status === status);
    if (exact !== undefined) return exact;
    if (matches[0] !== undefined) return matches[0];
  }
  switch (status) {
    case 400:
      return 'malformed-request';
    case 403:
      return 'target-prohibited';
    case 405:
      return 'method-not-allowed';
    case 431:
      return 'headers-too-large';
    case 503:
      return 'limit-reached';
    case 504:
      return 'connection-timeout';
    default:
      return status >= 500 ? 'connection-terminated' : 'internal';
  }
}
