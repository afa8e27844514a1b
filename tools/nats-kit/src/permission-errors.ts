/**
 * The server's permission violations as a client sees them. The server answers a denied
 * SUB or PUB with `-ERR 'Permissions Violation ...'` and nothing else (a denied publish is
 * dropped silently from the publisher's point of view), so a test that wants to observe a
 * denial, not assume it, reads the connection's status stream.
 */
import { PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';

export interface ViolationMatch {
  readonly operation: 'publish' | 'subscription';
  readonly subject: string;
}

export interface PermissionErrors {
  /** Every violation seen so far on the connection. */
  readonly seen: readonly PermissionViolationError[];
  /** The first violation (seen already or to come) for this operation and subject. */
  waitFor(match: ViolationMatch, timeoutMs?: number): Promise<PermissionViolationError>;
}

export function watchPermissionErrors(nc: NatsConnection): PermissionErrors {
  const seen: PermissionViolationError[] = [];
  const waiters = new Set<(err: PermissionViolationError) => void>();
  const matches = (err: PermissionViolationError, m: ViolationMatch): boolean =>
    err.operation === m.operation && err.subject === m.subject;
  void (async () => {
    // Ends when the connection closes.
    for await (const status of nc.status()) {
      if (status.type !== 'error' || !(status.error instanceof PermissionViolationError)) continue;
      seen.push(status.error);
      for (const waiter of [...waiters]) waiter(status.error);
    }
  })();
  return {
    seen,
    waitFor(match, timeoutMs = 5_000) {
      const already = seen.find((e) => matches(e, match));
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter = (err: PermissionViolationError): void => {
          if (!matches(err, match)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve(err);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(`no ${match.operation} violation on ${match.subject} within ${timeoutMs} ms`),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}
