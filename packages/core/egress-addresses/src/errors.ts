/**
 * The one error this package throws for hostile or broken input: a geo hint a client sent,
 * or a geofeed someone published. The message is fixed per code and never quotes the input,
 * so nothing a client wrote can reach a log line or the wire through it; `reason` says which
 * rule failed and `problems` (geofeeds only) names lines by number.
 */

export type EgressAddressErrorCode = 'invalid-hint' | 'invalid-geofeed';

const messages: Readonly<Record<EgressAddressErrorCode, string>> = {
  'invalid-hint': 'invalid geo hint',
  'invalid-geofeed': 'invalid geofeed',
};

export class EgressAddressError extends Error {
  override readonly name = 'EgressAddressError';
  readonly code: EgressAddressErrorCode;
  /** Which rule failed, a short fixed phrase (never input text). */
  readonly reason: string;
  /** One line per problem, for geofeeds: `line N: ...`. */
  readonly problems: readonly string[];

  constructor(code: EgressAddressErrorCode, reason: string, problems: readonly string[] = []) {
    super(messages[code]);
    this.code = code;
    this.reason = reason;
    this.problems = Object.freeze([...problems]);
  }
}

export function isEgressAddressError(err: unknown): err is EgressAddressError {
  return err instanceof EgressAddressError;
}
