/**
 * An account-wide observer: a JetStream stream on `>` records every message that reaches an
 * account, whichever subject it arrives on and whatever its users may subscribe to. It is
 * what "never reaches anything in INGRESS" is checked against, so the check does not lean
 * on the very permissions it is meant to back up.
 */
import { randomUUID } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { eventually } from './helpers.ts';

export interface Observed {
  readonly subject: string;
  readonly data: string;
}

export interface AccountObserver {
  /** Every message the account received since `start`, oldest first. */
  messages(): Promise<Observed[]>;
  /** Resolves once a message whose payload contains `marker` was recorded. */
  waitForPayload(marker: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function observeAccount(nc: NatsConnection): Promise<AccountObserver> {
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const name = `OBSERVER_${randomUUID().replaceAll('-', '')}`;
  // no_ack: a stream on `>` would otherwise answer every publish, requests included.
  await jsm.streams.add({ name, subjects: ['>'], no_ack: true, storage: 'memory' });
  const messages = async (): Promise<Observed[]> => {
    const info = await jsm.streams.info(name);
    const out: Observed[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
      const m = await jsm.streams.getMessage(name, { seq });
      if (m) out.push({ subject: m.subject, data: m.string() });
    }
    return out;
  };
  return {
    messages,
    async waitForPayload(marker, timeoutMs = 3_000) {
      await eventually(
        `${marker} to reach the account`,
        async () => (await messages()).some((m) => m.data.includes(marker)),
        { timeoutMs, intervalMs: 25 },
      );
    },
    async stop() {
      await jsm.streams.delete(name);
    },
  };
}
