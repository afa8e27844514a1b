/** Shared by the kit's tests: waiting for messages, and the leaked-handle check. */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
// The test kit builds on this kit: a package dependency back would be a cycle.
import { eventually } from '../../test-kit/src/eventually.ts';
import { activeResources, assertNoLeakedHandles as noLeaks } from '../../test-kit/src/handles.ts';

export { eventually };

// Taken when the test file loads: the runner's own stdio pipes are there from the start.
const baseline = activeResources();

/** Fails if a test left a socket, timer or child process behind. */
export const assertNoLeakedHandles = (): Promise<void> => noLeaks({ baseline });

/** Every message a subscription receives, as `subject payload`, kept until read. */
export interface Recorder {
  readonly messages: { subject: string; data: string }[];
  /** Resolves once a message on `subject` arrived (already or later). */
  waitFor(subject: string, timeoutMs?: number): Promise<void>;
  /** Unsubscribes. */
  stop(): void;
}

export function record(sub: Subscription): Recorder {
  const messages: { subject: string; data: string }[] = [];
  const waiters = new Set<() => void>();
  void (async () => {
    for await (const m of sub as AsyncIterable<Msg>) {
      messages.push({ subject: m.subject, data: m.string() });
      for (const w of [...waiters]) w();
    }
  })().catch(() => {});
  return {
    messages,
    stop: () => sub.unsubscribe(),
    waitFor(subject, timeoutMs = 3_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!messages.some((m) => m.subject === subject)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no message on ${subject} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/**
 * Publishes until every recorder saw the subject: interest crosses routes asynchronously, so
 * a single publish right after a subscription on another node may meet no interest yet.
 */
export async function publishUntilSeen(
  publisher: NatsConnection,
  subject: string,
  recorders: readonly Recorder[],
  timeoutMs = 5_000,
): Promise<void> {
  await eventually(
    `every recorder to see ${subject}`,
    async () => {
      publisher.publish(subject, 'probe');
      await publisher.flush();
      await Promise.all(recorders.map((r) => r.waitFor(subject, 100)));
      return true;
    },
    { timeoutMs, intervalMs: 0 },
  );
}

/** A round trip on every connection, so whatever was going to be delivered has been. */
export async function settle(...connections: NatsConnection[]): Promise<void> {
  await Promise.all(connections.map((nc) => nc.flush()));
  // One more round trip after the publishers' flush covers delivery to other connections.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await Promise.all(connections.map((nc) => nc.flush()));
}
