/**
 * Bounds a pending step (a handshake, a DNS answer, a peer's reply) by time and by the
 * caller's AbortSignal, leaving no timer or listener behind whichever comes first.
 *
 * `work` may be a promise, or a function given a signal that fires on the timeout or the
 * caller's abort, so work that can be cancelled is. Work that cannot be (a getaddrinfo call)
 * is simply not awaited after the deadline: its late answer is dropped.
 */
import { RelayError, type RelayErrorCode } from '@splitrelay/errors';

export interface DeadlineOptions {
  readonly ms: number;
  readonly signal?: AbortSignal | undefined;
  /** The error for a timeout (built lazily: most waits never time out). */
  readonly onTimeout: () => Error;
  /** The error for the caller's abort; the signal's reason when absent. */
  readonly onAbort?: () => unknown;
}

export function withDeadline<T>(
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  options: DeadlineOptions,
): Promise<T> {
  const { ms, signal, onTimeout } = options;
  const abortError = (): unknown => (options.onAbort ? options.onAbort() : signal?.reason);
  if (signal?.aborted) {
    if (typeof work !== 'function') work.catch(() => {});
    return Promise.reject(abortError());
  }
  const inner = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      const err = abortError();
      finish(() => reject(err));
      inner.abort(err);
    };
    const timer = setTimeout(() => {
      const err = onTimeout();
      finish(() => reject(err));
      inner.abort(err);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    let running: Promise<T>;
    try {
      running = typeof work === 'function' ? work(inner.signal) : work;
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}

/**
 * The deadline options of a relay step: a timeout fails with `RelayError(code, details)`, an
 * abort with the same code and "aborted", so the step's caller sees one kind of refusal.
 */
export function relayDeadline(
  ms: number,
  signal: AbortSignal | undefined,
  code: RelayErrorCode,
  details: string,
): DeadlineOptions {
  return {
    ms,
    signal,
    onTimeout: () => new RelayError(code, details),
    onAbort: () => new RelayError(code, 'aborted'),
  };
}
