/**
 * Why the issuer refused a request, with the HTTP status each reason carries (RFC 9578 §6.3:
 * a malformed request or one for an unknown key is 400). The detail goes to the client in the
 * body; it is built from lengths, counts and codes, never from the request's bytes.
 */

export const REFUSAL_STATUS = {
  'not-found': 404,
  'method-not-allowed': 405,
  unauthorized: 401,
  'rate-limited': 429,
  'unsupported-media-type': 415,
  'too-large': 413,
  'too-many': 413,
  malformed: 400,
  'unsupported-type': 400,
  'unknown-key': 400,
  'no-key': 503,
  internal: 500,
} as const;

export type RefusalCode = keyof typeof REFUSAL_STATUS;

export const REFUSAL_CODES = Object.freeze(Object.keys(REFUSAL_STATUS) as RefusalCode[]);

export class Refusal extends Error {
  override readonly name = 'Refusal';
  readonly code: RefusalCode;
  /** Whole seconds, for 429 (Retry-After). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: RefusalCode, detail: string, retryAfterSeconds?: number) {
    super(detail);
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  get status(): number {
    return REFUSAL_STATUS[this.code];
  }

  /** The response body: the code, then a sentence for a person. */
  get body(): string {
    return `${this.code}: ${this.message}\n`;
  }
}
