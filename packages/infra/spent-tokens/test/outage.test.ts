/**
 * NATS going away: a server that hangs (SIGSTOP) and one that dies (SIGKILL). Claims must
 * reject with SpentStoreUnavailableError within the deadline, never hang, and work again
 * once the server is back, with every earlier record kept (the JetStream store survives).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectAs, startNats, type NatsServer } from '@splitrelay/nats-kit';
import {
  openNatsSpentTokenStore,
  SpentStoreUnavailableError,
  type SpentTokenStore,
} from '../src/index.ts';
import { eventually } from '@splitrelay/test-kit/eventually';
import { assertNoLeakedHandles, randomTokenKey, stopProcess } from './helpers.ts';

const BUCKET = 'splitrelay-spent-tokens';
const TIMEOUT_MS = 500;
/**
 * "Never hangs" as a bound no loaded machine reaches: without the deadline a claim would wait
 * for ever (the client reconnects without end). What bounded each rejection is read from the
 * error itself, not from a tight clock.
 */
const NEVER_HANGS_MS = 10_000;
const BY_DEADLINE = `no answer within ${TIMEOUT_MS} ms`;
const REFUSED_AT_ONCE = 'NATS disconnected';

const options = { bucket: BUCKET, ttlMs: 3_600_000, timeoutMs: TIMEOUT_MS, localCacheSize: 0 };

/** Awaits a refused claim: how long it took (bounded by NEVER_HANGS_MS), and why. */
async function timedRejection(
  claim: Promise<unknown>,
): Promise<{ elapsed: number; reason: string }> {
  const t0 = performance.now();
  const err = await claim.then(
    () => assert.fail('the claim should have been refused'),
    (e: unknown) => e,
  );
  const elapsed = performance.now() - t0;
  assert.ok(err instanceof SpentStoreUnavailableError, String(err));
  assert.equal(err.code, 'auth-unavailable');
  assert.ok(elapsed < NEVER_HANGS_MS, `refused after ${elapsed} ms`);
  return { elapsed, reason: err.details.replace(/^spent-token store unavailable: /, '') };
}

describe('NATS outage', { timeout: 60_000 }, () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let store: SpentTokenStore;
  const before1 = randomTokenKey();

  before(async () => {
    server = await startNats();
    nc = await connectAs('ingress', server.url, {
      reconnectTimeWait: 50,
      maxReconnectAttempts: -1,
    });
    store = await openNatsSpentTokenStore(nc, options);
    assert.equal(await store.claim(before1), 'fresh');
  });

  after(async () => {
    if (server?.running) server.process.kill('SIGCONT');
    await store?.close();
    await nc?.close();
    await server?.stop();
    await assertNoLeakedHandles();
  });

  it('a hung server: the claim rejects at the deadline, and its outcome is unknown', async (t) => {
    const key = randomTokenKey();
    await stopProcess(server.process);
    try {
      const { elapsed, reason } = await timedRejection(store.claim(key));
      // The deadline, and nothing sooner, ended it (a timer never fires early).
      assert.equal(reason, BY_DEADLINE);
      assert.ok(elapsed >= TIMEOUT_MS - 20, `rejected after ${elapsed} ms, before the deadline`);
      assert.equal(store.healthy, false);
      t.diagnostic(`hung server: rejected after ${elapsed.toFixed(1)} ms (deadline ${TIMEOUT_MS})`);
    } finally {
      server.process.kill('SIGCONT');
    }
    // The request was on the wire: the resumed server wrote it. A caller told "unavailable"
    // cannot know, and fails closed; the client's retry with this token is then 'spent'.
    assert.equal(
      await eventually('the claim after the outage', () => store.claim(key), { timeoutMs: 5_000 }),
      'spent',
    );
    assert.equal(store.healthy, true);
  });

  it('a dead server: claims in flight and new ones reject within the deadline', async (t) => {
    await stopProcess(server.process);
    const inFlight = timedRejection(store.claim(randomTokenKey()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.kill('SIGKILL');
    const { elapsed: inFlightMs, reason: inFlightReason } = await inFlight;
    // The deadline or the lost connection ended it, whichever came first.
    assert.ok(['claim failed', BY_DEADLINE].includes(inFlightReason), inFlightReason);
    // Once the client knows it is disconnected it refuses at once, sending nothing.
    const afterKill = randomTokenKey();
    await eventually('the client to know it is disconnected', async () => {
      const { reason } = await timedRejection(store.claim(randomTokenKey()));
      return reason === REFUSED_AT_ONCE;
    });
    const { elapsed, reason } = await timedRejection(store.claim(afterKill));
    assert.equal(reason, REFUSED_AT_ONCE);
    assert.equal(store.healthy, false);
    t.diagnostic(
      `dead server: in-flight claim rejected after ${inFlightMs.toFixed(1)} ms, ` +
        `a new one after ${elapsed.toFixed(1)} ms`,
    );
    const sentBefore = nc.stats().outMsgs;
    for (let i = 0; i < 20; i++) {
      assert.equal((await timedRejection(store.claim(randomTokenKey()))).reason, REFUSED_AT_ONCE);
    }
    assert.equal(nc.stats().outMsgs, sentBefore, 'nothing queued for after the reconnect');

    // Back on the same port with the same store directory.
    await server.restart();
    const fresh = randomTokenKey();
    assert.equal(
      await eventually('a claim of a fresh key', () => store.claim(fresh), { timeoutMs: 10_000 }),
      'fresh',
    );
    assert.equal(store.healthy, true);
    assert.equal(await store.claim(before1), 'spent', 'a record from before the outage');
    assert.equal(await store.claim(afterKill), 'fresh', 'a refused claim left no record');

    // A new instance (new connection, new store) sees the same records.
    const nc2 = await connectAs('ingress', server.url);
    try {
      const store2 = await openNatsSpentTokenStore(nc2, options);
      assert.equal(await store2.claim(before1), 'spent');
      assert.equal(await store2.claim(fresh), 'spent');
      await store2.close();
    } finally {
      await nc2.close();
    }
  });

  it('opening while NATS is down rejects within its deadline', async () => {
    await server.kill('SIGKILL');
    try {
      const t0 = performance.now();
      await assert.rejects(
        openNatsSpentTokenStore(nc, { ...options, openTimeoutMs: 300 }),
        SpentStoreUnavailableError,
      );
      assert.ok(performance.now() - t0 < NEVER_HANGS_MS);
    } finally {
      await server.restart();
    }
    assert.equal(
      await eventually('a claim of a new key', () => store.claim(randomTokenKey()), {
        timeoutMs: 10_000,
      }),
      'fresh',
    );
  });

  it('after close, claims reject', async () => {
    const closing = await openNatsSpentTokenStore(nc, options);
    await closing.close();
    await assert.rejects(closing.claim(randomTokenKey()), SpentStoreUnavailableError);
  });
});
