/**
 * The one error every decoder, parser and key loader in this package throws. `reason` is a
 * stable string the caller switches on; the message is fixed per reason so nothing taken
 * from the input (a header, a key) can reach a log or the wire through it.
 */
export type PrivacyPassErrorReason =
  | 'malformed' // bytes or header that do not parse
  | 'unsupported-type' // token_type other than 0x0002
  | 'bad-key' // a token key that is not a 2048-bit RSA key in RSASSA-PSS SPKI form
  | 'unknown-key' // token request naming a key the issuer does not hold
  | 'too-large'; // header/body over the limit given

const messages: Readonly<Record<PrivacyPassErrorReason, string>> = {
  malformed: 'malformed Privacy Pass message',
  'unsupported-type': 'unsupported Privacy Pass token type',
  'bad-key': 'not a 2048-bit RSASSA-PSS token key',
  'unknown-key': 'token request names an unknown issuer key',
  'too-large': 'Privacy Pass message too large',
};

export class PrivacyPassError extends Error {
  override readonly name = 'PrivacyPassError';
  readonly reason: PrivacyPassErrorReason;

  constructor(reason: PrivacyPassErrorReason, options?: { cause?: unknown }) {
    super(messages[reason], options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}

export function isPrivacyPassError(err: unknown): err is PrivacyPassError {
  return err instanceof PrivacyPassError;
}
