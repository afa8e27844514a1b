/**
 * The one error this package throws for anything a peer or a key file can cause. `reason` is a
 * stable string to switch on; the message is fixed per reason, so no key, ciphertext or
 * library detail reaches a log or the wire through it. What went wrong underneath (the
 * library's `OpenError`, an OpenSSL code) is kept only as `cause`, for debugging.
 *
 * Callers given a wrong-typed argument (a string where bytes belong) get the library's own
 * `TypeError`: that is a bug in the caller, not something a peer can trigger.
 */
export type HpkeErrorReason =
  /** AEAD authentication failed: wrong key, wrong info/aad, or tampered ciphertext (RFC 9180 §5.2). */
  | 'open-failed'
  /** The encapsulated key is not a valid KEM ciphertext for this key (RFC 9180 §4, `Decap`). */
  | 'decap-failed'
  /** Key bytes of the wrong length or not a valid key for the KEM (§7.1, `DeserializePublicKey`). */
  | 'invalid-key'
  /** A KEM, KDF or AEAD identifier this package does not offer. */
  | 'unsupported-suite'
  /** The context's sequence number would overflow (§5.2, `MessageLimitReachedError`). */
  | 'message-limit';

const messages: Readonly<Record<HpkeErrorReason, string>> = {
  'open-failed': 'decryption failed',
  'decap-failed': 'decapsulation failed',
  'invalid-key': 'invalid HPKE key',
  'unsupported-suite': 'unsupported HPKE suite',
  'message-limit': 'HPKE message limit reached',
};

export class HpkeError extends Error {
  override readonly name = 'HpkeError';
  readonly reason: HpkeErrorReason;

  constructor(reason: HpkeErrorReason, options?: { cause?: unknown }) {
    super(messages[reason], options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}

export function isHpkeError(err: unknown): err is HpkeError {
  return err instanceof HpkeError;
}
