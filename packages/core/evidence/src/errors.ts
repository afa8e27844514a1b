/**
 * The one error this package throws. `kind` is what went wrong, `offset` where (a byte
 * offset in the input given to the call that threw), and the message is fixed per kind:
 * evidence is hostile input, so nothing taken from it is ever put in a message. The detail
 * a maintainer needs (which field, which rule) is in `detail`, written by this package and
 * never quoting input.
 */
export type EvidenceErrorKind =
  /** The input ends before the structure it starts: a longer input may decode. */
  | 'incomplete'
  /** The input breaks a rule of its format; no longer input will fix it. */
  | 'invalid'
  /** A declared length above the bound this package keeps to hold memory. */
  | 'too-large'
  /** Well-formed, but a format or link type this package does not read. */
  | 'unsupported';

const messages: Readonly<Record<EvidenceErrorKind, string>> = {
  incomplete: 'evidence input is incomplete',
  invalid: 'evidence input is malformed',
  'too-large': 'evidence input exceeds a size limit',
  unsupported: 'evidence input uses an unsupported format',
};

export class EvidenceError extends Error {
  override readonly name = 'EvidenceError';
  readonly kind: EvidenceErrorKind;
  readonly offset: number;
  readonly detail: string;

  constructor(kind: EvidenceErrorKind, offset: number, detail: string) {
    super(messages[kind]);
    this.kind = kind;
    this.offset = offset;
    this.detail = detail;
  }
}

export function isEvidenceError(err: unknown): err is EvidenceError {
  return err instanceof EvidenceError;
}
