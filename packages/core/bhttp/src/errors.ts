/**
 * The one error the binary HTTP codecs throw. It is a `RelayError`, so a gateway shell answers
 * it like any other: 'malformed-request' (400) for a message that breaks RFC 9292, and
 * 'headers-too-large' (431) when a field section or control data is over the caller's bound.
 * `kind` says which rule broke, for tests and counters. Details never quote the input.
 *
 * RFC 9292 §4: "Invalid messages MUST NOT be processed except to log an error and produce an
 * error response." Inside Oblivious HTTP that response travels encapsulated (RFC 9458 §5.2).
 */
import { RelayError } from '@splitrelay/errors';

export type BhttpErrorKind =
  /** The bytes end inside a part that cannot be truncated (RFC 9292 §3.1, §3.2). */
  | 'truncated'
  /** A rule of the format or of field validity (§3.3–§3.8, HTTP/2 §8.2.1) is broken. */
  | 'malformed'
  /** A field section, field count, control data, content or informational count over its bound. */
  | 'too-large';

export class BhttpError extends RelayError {
  readonly kind: BhttpErrorKind;

  constructor(kind: BhttpErrorKind, details: string, headers = false) {
    super(headers ? 'headers-too-large' : 'malformed-request', details);
    this.kind = kind;
  }
}

export function isBhttpError(err: unknown): err is BhttpError {
  return err instanceof BhttpError;
}
