import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RelayError } from '@splitrelay/errors';
import { createMemorySpentTokenStore, SpentStoreUnavailableError } from '../src/index.ts';
import { randomTokenKey } from './helpers.ts';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('memory spent-token store', () => {
  it('claims fresh once, then spent', async () => {
    const store = createMemorySpentTokenStore({ ttlMs: 60_000, maxEntries: 10 });
    const key = randomTokenKey();
    assert.equal(await store.claim(key), 'fresh');
    assert.equal(await store.claim(key), 'spent');
    assert.equal(await store.claim(key), 'spent');
    assert.equal(await store.claim(randomTokenKey()), 'fresh');
    assert.equal(store.healthy, true);
  });

  it('forgets a record after ttlMs (injected clock), not before', async () => {
    const c = clock();
    const store = createMemorySpentTokenStore({ ttlMs: 1_000, maxEntries: 10, now: c.now });
    const key = randomTokenKey();
    assert.equal(await store.claim(key), 'fresh');
    c.advance(999);
    assert.equal(await store.claim(key), 'spent');
    c.advance(1);
    assert.equal(await store.claim(key), 'fresh');
  });

  it('when full it refuses (fails closed) rather than forget a live record', async () => {
    const c = clock();
    const store = createMemorySpentTokenStore({ ttlMs: 1_000, maxEntries: 3, now: c.now });
    const keys = [randomTokenKey(), randomTokenKey(), randomTokenKey()];
    for (const k of keys) assert.equal(await store.claim(k), 'fresh');
    const refused = await store.claim(randomTokenKey()).then(
      () => assert.fail('a claim beyond maxEntries must reject'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof SpentStoreUnavailableError);
    assert.ok(refused instanceof RelayError);
    assert.equal(refused.code, 'auth-unavailable');
    assert.equal(refused.status, 503);
    assert.equal(store.healthy, false);
    // Known records still answer while full.
    assert.equal(await store.claim(keys[0]!), 'spent');
    assert.equal(store.healthy, true);
    // Room comes back as records expire.
    c.advance(1_000);
    assert.equal(await store.claim(randomTokenKey()), 'fresh');
  });

  it('rejects a key that is not KV-safe with a TypeError, and claims after close', async () => {
    const store = createMemorySpentTokenStore({ ttlMs: 1_000, maxEntries: 3 });
    await assert.rejects(store.claim('a.*'), TypeError);
    await store.close();
    await assert.rejects(store.claim(randomTokenKey()), SpentStoreUnavailableError);
  });

  it('refuses nonsensical options', () => {
    assert.throws(() => createMemorySpentTokenStore({ ttlMs: 0, maxEntries: 1 }), RangeError);
    assert.throws(() => createMemorySpentTokenStore({ ttlMs: 1, maxEntries: 0 }), RangeError);
  });

  it('agrees with a model under random claims and clock steps (fast-check)', async () => {
    const ttlMs = 100;
    const maxEntries = 5;
    const step = fc.oneof(
      fc.record({ claim: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ advance: fc.integer({ min: 0, max: 60 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const c = clock();
        const store = createMemorySpentTokenStore({ ttlMs, maxEntries, now: c.now });
        const model = new Map<number, number>(); // key -> claimed at
        for (const s of steps) {
          if ('advance' in s) {
            c.advance(s.advance);
            continue;
          }
          const now = c.now();
          for (const [k, at] of model) if (at + ttlMs <= now) model.delete(k);
          const key = `00.${s.claim}`;
          const outcome = await store.claim(key).catch((err: unknown) => {
            assert.ok(err instanceof SpentStoreUnavailableError);
            return 'refused' as const;
          });
          if (model.has(s.claim)) assert.equal(outcome, 'spent');
          else if (model.size >= maxEntries) assert.equal(outcome, 'refused');
          else {
            assert.equal(outcome, 'fresh');
            model.set(s.claim, now);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
