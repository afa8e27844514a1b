/**
 * The one error this package's decoders throw. It *is* a `RelayError` with code
 * 'malformed-request' (400, Proxy-Status `http_request_error`, the downstream's fault, not
 * retryable), so shells handle it like any other relay error; `kind` only says which rule
 * the peer broke, for tests and counters. Same pattern as `Socks5Error`.
 *
 * RFC 9297 §3.3 treats a malformed or truncated capsule stream as malformed HTTP: before a
 * response has been sent that is a 400; after the tunnel is up the status is already
 * written, so the shell aborts the stream (HTTP/2 RST_STREAM) instead.
 */
import { RelayError } from '@splitrelay/errors';

export type CapsuleErrorKind =
  /** A capsule's declared length is above the parser's `maxCapsuleBytes`. */
  | 'capsule-too-large'
  /** The stream ended inside a capsule. */
  | 'truncated'
  /** The bytes are complete but break a rule of the format (e.g. a DATAGRAM with no context ID). */
  | 'malformed';

export class CapsuleError extends RelayError {
  readonly kind: CapsuleErrorKind;

  constructor(kind: CapsuleErrorKind, details: string) {
    super('malformed-request', details);
    this.kind = kind;
  }
}

export function isCapsuleError(err: unknown): err is CapsuleError {
  return err instanceof CapsuleError;
}
