/**
 * Waiting for something with a time limit and a caller's AbortSignal, leaving no timer or
 * listener behind whichever comes first.
 */

export interface DeadlineOptions {
  readonly ms: number;
  readonly signal: AbortSignal | undefined;
  /** The error for a timeout (built lazily: most waits never time out). */
  readonly onTimeout: () => Error;
}

/**
 * Runs `work` with a signal that fires on timeout or on the caller's abort, and settles with
 * whichever happens first. The work is not awaited after that: a getaddrinfo call cannot be
 * cancelled, so its late answer is dropped.
 */
export function withDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  options: DeadlineOptions,
): Promise<T> {
  const { ms, signal, onTimeout } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
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
      finish(() => reject(signal?.reason));
      inner.abort(signal?.reason);
    };
    const timer = setTimeout(() => {
      const err = onTimeout();
      finish(() => reject(err));
      inner.abort(err);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    let running: Promise<T>;
    try {
      running = work(inner.signal);
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}
