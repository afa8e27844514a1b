/**
 * A next hop's refusal (any answer but 2xx to a CONNECT) as the RelayError it stands for,
 * read the same way by every caller: the client reading its ingress, the ingress reading an
 * egress over the trunk, the client reading an egress's answer to a flow.
 *
 *   code               codeFromResponse(status, error type of the refusing member)
 *   details            that member's `details` (bounded), else "<peer> answered <status>"
 *   retryAfterSeconds  Retry-After as delay-seconds (RFC 9110 §10.2.3), capped at
 *                      MAX_RETRY_AFTER_SECONDS; an HTTP-date or anything else is ignored
 *   headers            Proxy-Authenticate (RFC 9110 §11.7.1), e.g. a Privacy Pass challenge
 *                      (RFC 9577 §2.1) the caller can fetch a token for
 *
 * The refusing member of Proxy-Status (RFC 9209 §2): members run from the origin outwards,
 * and the first to carry an `error` is the hop nearest the origin that refused, the cause;
 * members after it only passed the answer on. Without any `error`, the first member.
 *
 * Sans-I/O: it takes a status and either a headers record (Node's http and http2 both give
 * one) or a getter, never a response object.
 */
import { parseProxyStatus } from './proxy-status.ts';
import { RelayError, codeFromResponse } from './relay-error.ts';

export type HeaderValue = string | readonly string[] | number | undefined;

/** Lower-case names to values, as Node gives them, or a getter taking a lower-case name. */
export type ResponseHeaders =
  Readonly<Record<string, HeaderValue>> | ((name: string) => HeaderValue);

export interface ResponseRefusalOptions {
  /** Who answered, for details when no Proxy-Status says why: "egress answered 503". */
  readonly peer?: string;
  /**
   * Keep Proxy-Authenticate (default true). False where the answer comes from a party whose
   * challenge must never reach a client: the ingress alone asks clients for tokens.
   */
  readonly keepChallenge?: boolean;
}

/** Longest wait a next hop may ask for; beyond it a client would rather fail than wait. */
export const MAX_RETRY_AFTER_SECONDS = 3600;
/** Longest `details` kept: enough for any reason a relay writes, bounded for logs. */
const MAX_DETAILS = 256;
/** Longest challenge kept; a Privacy Pass challenge with its token key is about 700. */
const MAX_CHALLENGE = 8192;

const delaySecondsRe = /^[0-9]+$/;
/** RFC 9110 §5.5 field-value: visible ASCII, SP and HTAB (obs-text refused). */
const fieldValueRe = /^[\t\x20-\x7e]*$/;

function headerOf(headers: ResponseHeaders, name: string): string | undefined {
  let value: HeaderValue;
  if (typeof headers === 'function') {
    value = headers(name);
  } else {
    value = Object.hasOwn(headers, name) ? headers[name] : undefined;
    if (value === undefined) {
      const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
      value = key === undefined ? undefined : headers[key];
    }
  }
  if (value === undefined) return undefined;
  // A field line repeated is one list (RFC 9110 §5.3), which a single-valued field can't be.
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

/**
 * RFC 9110 §10.2.3: `Retry-After = HTTP-date / delay-seconds`, `delay-seconds = 1*DIGIT`.
 * Only delay-seconds are taken (a date would need a clock, and ours is not the sender's);
 * surrounding whitespace is trimmed (§5.5), anything else is no advice at all.
 */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (!delaySecondsRe.test(text)) return undefined;
  // Past the cap the digits do not matter; Number() of a huge digit string is still a number.
  return Math.min(Number(text), MAX_RETRY_AFTER_SECONDS);
}

export function refusalFromResponse(
  status: number,
  headers: ResponseHeaders,
  options: ResponseRefusalOptions = {},
): RelayError {
  // A status that is not one means a broken next hop: answer as for a bad gateway.
  const code = Number.isInteger(status) && status >= 100 && status <= 599 ? status : 502;
  const members = parseProxyStatus(headerOf(headers, 'proxy-status') ?? '');
  const member = members.find((m) => m.error !== undefined) ?? members[0];
  // Printable ASCII only, as sfString would write it again: a reason goes on into logs.
  const details = member?.details?.slice(0, MAX_DETAILS).replace(/[^\x20-\x7e]/g, '?');
  const retryAfterSeconds = parseRetryAfter(headerOf(headers, 'retry-after'));
  const challenge =
    options.keepChallenge === false ? undefined : headerOf(headers, 'proxy-authenticate');
  const keptChallenge =
    challenge !== undefined &&
    challenge.length > 0 &&
    challenge.length <= MAX_CHALLENGE &&
    fieldValueRe.test(challenge)
      ? challenge
      : undefined;
  return new RelayError(
    codeFromResponse(code, member?.error),
    details !== undefined && details.length > 0
      ? details
      : `${options.peer ?? 'next hop'} answered ${code}`,
    {
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      ...(keptChallenge === undefined ? {} : { headers: { 'proxy-authenticate': keptChallenge } }),
    },
  );
}
