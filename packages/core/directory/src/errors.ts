/**
 * The one error a directory check throws. Its codes say why an entry was refused, so an
 * ingress or a client can count and log refusals without parsing messages.
 */

export type DirectoryErrorCode =
  'bad-signature' | 'unknown-key' | 'expired' | 'not-yet-valid' | 'malformed' | 'operator-mismatch';

export class DirectoryError extends Error {
  override readonly name = 'DirectoryError';
  readonly code: DirectoryErrorCode;

  constructor(code: DirectoryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isDirectoryError(err: unknown): err is DirectoryError {
  return err instanceof DirectoryError;
}

/**
 * A failed signature check says only that it failed: which byte, which key or what the
 * library complained about stays in `cause`, so no message can serve as an oracle.
 */
export function badSignature(cause?: unknown): DirectoryError {
  return new DirectoryError(
    'bad-signature',
    'signature verification failed',
    cause === undefined ? undefined : { cause },
  );
}
