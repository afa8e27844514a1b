/**
 * Bounds a pending step (a handshake, a DNS answer, a peer's reply) by time and by an
 * AbortSignal, failing with the RelayError the caller names.
 */
import { RelayError, type RelayErrorCode } from '@splitrelay/errors';

export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
  code: RelayErrorCode,
  details: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new RelayError(code, 'aborted'));
      return;
    }
    const timer = setTimeout(() => reject(new RelayError(code, details)), ms);
    const onAbort = (): void => reject(new RelayError(code, 'aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  });
}
