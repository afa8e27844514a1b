/**
 * The one error the Oblivious HTTP codecs throw. It is a `RelayError` ('malformed-request',
 * 400): RFC 9458 §5.2 says a server that receives an invalid message "MUST generate an HTTP
 * response with a 4xx status code", sent without encapsulation when the problem is found
 * before the request is decrypted.
 *
 * What a gateway shell sends for each reason (nothing else; the body never explains more):
 *
 *   'unknown-key'     400, Content-Type: application/problem+json, body
 *                     {"type":"https://iana.org/assignments/http-problem-types#ohttp-key",
 *                      "title":"key identifier unknown"}
 *                     (RFC 9458 §5.3; the client then refetches application/ohttp-keys).
 *                     Also for a KEM, KDF or AEAD the key's configuration does not list:
 *                     the client is using a configuration that is not (or no longer) ours.
 *                     `problemJson` carries exactly this body.
 *   'decrypt-failed'  400, no body. One error for every failure after the key was found (a
 *                     short or invalid `enc`, a failed AEAD open, a missing or empty chunk):
 *                     the message is fixed and carries nothing a peer could use as an oracle.
 *   'malformed'       400, no body (bytes that do not parse: a header shorter than 7 bytes, a
 *                     key configuration with a bad length).
 *   'incomplete'      only from `decodeKeyConfig`/`decodeKeys` on a prefix; a shell never sees
 *                     it for a request, whose end is the end of the HTTP content.
 *   'too-large'       400, no body: a chunk over the configured limit.
 *
 * Errors after decryption (an invalid Binary HTTP request, an upstream failure) are not this
 * error: RFC 9458 §5.2 sends them inside an Encapsulated Response.
 */
import { RelayError } from '@splitrelay/errors';

export type OhttpErrorReason =
  'unknown-key' | 'decrypt-failed' | 'malformed' | 'incomplete' | 'too-large';

export const OHTTP_KEY_PROBLEM_TYPE = 'https://iana.org/assignments/http-problem-types#ohttp-key';

const details: Readonly<Record<OhttpErrorReason, string>> = {
  'unknown-key': 'key identifier unknown',
  'decrypt-failed': 'decryption failed',
  malformed: 'malformed oblivious HTTP message',
  incomplete: 'incomplete oblivious HTTP message',
  'too-large': 'oblivious HTTP chunk too large',
};

export class OhttpError extends RelayError {
  readonly reason: OhttpErrorReason;

  constructor(reason: OhttpErrorReason, options?: { cause?: unknown }) {
    super(
      'malformed-request',
      details[reason],
      reason === 'unknown-key'
        ? { cause: options?.cause, headers: { 'content-type': 'application/problem+json' } }
        : { cause: options?.cause },
    );
    this.reason = reason;
  }

  /** The RFC 9458 §5.3 problem details body for 'unknown-key'; undefined otherwise. */
  get problemJson(): string | undefined {
    return this.reason === 'unknown-key'
      ? JSON.stringify({ type: OHTTP_KEY_PROBLEM_TYPE, title: 'key identifier unknown' })
      : undefined;
  }
}

export function isOhttpError(err: unknown): err is OhttpError {
  return err instanceof OhttpError;
}
