/**
 * SOCKS5 method and reply codes (RFC 1928 §3 and §6), the typed error the decoders throw,
 * and the mapping from a relay failure to the reply a SOCKS client is sent.
 */
import { RelayError, type RelayErrorCode } from '@splitrelay/errors';

/** RFC 1928 §3 METHOD values. */
export const SocksMethod = {
  noAuth: 0x00,
  gssapi: 0x01,
  usernamePassword: 0x02,
  noAcceptable: 0xff,
} as const;

/** RFC 1928 §6 REP values. */
export const SocksReply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export type SocksReplyCode = (typeof SocksReply)[keyof typeof SocksReply];

/**
 * SOCKS has nine reply codes for the relay's two dozen failure codes. A `Record` rather than a
 * `switch` so a new RelayError code cannot be added without choosing its reply.
 */
const replyFor: Record<RelayErrorCode, SocksReplyCode> = {
  'malformed-request': SocksReply.generalFailure,
  'headers-too-large': SocksReply.generalFailure,
  'content-too-large': SocksReply.generalFailure,
  'unsupported-media-type': SocksReply.generalFailure,
  'request-timeout': SocksReply.generalFailure,
  'method-not-allowed': SocksReply.commandNotSupported,
  'unknown-egress': SocksReply.notAllowed,
  'egress-unavailable': SocksReply.networkUnreachable,
  'egress-down': SocksReply.networkUnreachable,
  'egress-timeout': SocksReply.ttlExpired,
  'target-prohibited': SocksReply.notAllowed,
  'port-prohibited': SocksReply.notAllowed,
  'dns-error': SocksReply.hostUnreachable,
  'dns-timeout': SocksReply.hostUnreachable,
  'connection-refused': SocksReply.connectionRefused,
  'connection-timeout': SocksReply.ttlExpired,
  'destination-unreachable': SocksReply.hostUnreachable,
  'connection-terminated': SocksReply.generalFailure,
  'idle-timeout': SocksReply.ttlExpired,
  // The client's own proxy failed to authenticate its session: "not allowed by ruleset".
  'token-required': SocksReply.notAllowed,
  'token-invalid': SocksReply.notAllowed,
  'rate-limited': SocksReply.generalFailure,
  'auth-unavailable': SocksReply.generalFailure,
  'limit-reached': SocksReply.generalFailure,
  'tls-failed': SocksReply.generalFailure,
  'pin-mismatch': SocksReply.generalFailure,
  'config-invalid': SocksReply.generalFailure,
  internal: SocksReply.generalFailure,
};

export function socksReplyFor(code: RelayErrorCode): SocksReplyCode {
  return replyFor[code];
}

/**
 * A SOCKS5 message that cannot be accepted. It is a RelayError (so HTTP-facing code can use
 * it unchanged) that also knows the SOCKS reply to send, which is sometimes more precise than
 * the code's general mapping (an unknown ATYP is 0x08, not 0x01).
 */
export class Socks5Error extends RelayError {
  readonly reply: SocksReplyCode;

  constructor(code: RelayErrorCode, details: string, reply: SocksReplyCode = socksReplyFor(code)) {
    super(code, details);
    this.reply = reply;
  }
}

export function isSocks5Error(err: unknown): err is Socks5Error {
  return err instanceof Socks5Error;
}
