/**
 * The one bounded wait of the tests: ask `check` again and again until it has an answer or the
 * time is up. Relays, NATS and child processes settle asynchronously; a fixed sleep is either
 * too short on a busy machine or wastes time on an idle one.
 */
import { AssertionError } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** How long to keep asking, in ms (10 s by default). */
  readonly timeoutMs?: number;
  /** Pause between two tries, in ms (100 by default). */
  readonly intervalMs?: number;
}

/** What `check` answers while the awaited state has not come yet. */
type NotYet = false | undefined;

/**
 * Resolves with the first answer of `check` that is neither `false` nor `undefined`: `true`
 * for a yes/no check, or whatever the check found (a log record, a flow, a count).
 *
 * A check that throws is asked again (the relay may not listen yet), and its last error is the
 * cause of the timeout error. An `AssertionError` fails the wait at once: an assertion inside
 * a check says the state is wrong, not late. `what` (text, or a function for details known
 * only at the end) names the awaited state in the timeout error.
 */
export async function eventually<T>(
  what: string | (() => string),
  check: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<Exclude<T, NotYet>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let tries = 1; ; tries++) {
    try {
      const answer = await check();
      if (answer !== false && answer !== undefined) return answer as Exclude<T, NotYet>;
      lastError = undefined;
    } catch (err) {
      if (err instanceof AssertionError) throw err;
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const name = typeof what === 'string' ? what : what();
      throw new Error(
        `timed out after ${timeoutMs} ms (${tries} tries) waiting for ${name}`,
        lastError === undefined ? undefined : { cause: lastError },
      );
    }
    await sleep(Math.min(intervalMs, left));
  }
}
