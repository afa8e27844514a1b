import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RateLimiter, type RateLimitOptions } from '../src/index.ts';

/** A limiter on a clock the test moves by hand. */
function limiter(options: Omit<RateLimitOptions, 'now'>, start = 0) {
  const clock = { ms: start };
  return { clock, rate: new RateLimiter({ ...options, now: () => clock.ms }) };
}

const limits = fc.record({
  // Fractional rates on purpose: one token every few seconds is the common configuration.
  ratePerSecond: fc.oneof(
    fc.integer({ min: 1, max: 50 }),
    fc.double({ min: 0.05, max: 20, noNaN: true, noDefaultInfinity: true }),
  ),
  burst: fc.integer({ min: 1, max: 20 }),
});

/** A history on one key: wait some milliseconds, then ask for some tokens. */
const steps = fc.array(
  fc.record({
    waitMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 })),
    cost: fc.integer({ min: 1, max: 3 }),
  }),
  { minLength: 1, maxLength: 80 },
);

test('a fresh key gets its burst at once, then one token per 1/rate seconds', () => {
  const { clock, rate } = limiter({ ratePerSecond: 2, burst: 3, maxKeys: 10 });
  for (let i = 0; i < 3; i++) assert.deepEqual(rate.take('a'), { ok: true });
  assert.deepEqual(rate.take('a'), { ok: false, retryAfterSeconds: 1 });
  clock.ms += 499;
  assert.equal(rate.take('a').ok, false);
  clock.ms += 1;
  assert.equal(rate.take('a').ok, true);
  assert.equal(rate.take('a').ok, false);
});

test('retryAfterSeconds is a whole number of seconds, at least 1, and covers the cost', () => {
  const { rate } = limiter({ ratePerSecond: 0.25, burst: 2, maxKeys: 10 });
  assert.equal(rate.take('a', 2).ok, true);
  // One token takes 4 s to come back, two take 8 s.
  assert.deepEqual(rate.take('a'), { ok: false, retryAfterSeconds: 4 });
  assert.deepEqual(rate.take('a', 2), { ok: false, retryAfterSeconds: 8 });
  const fast = limiter({ ratePerSecond: 1000, burst: 1, maxKeys: 10 }).rate;
  fast.take('a');
  assert.deepEqual(fast.take('a'), { ok: false, retryAfterSeconds: 1 });
});

test('keys are independent', () => {
  const { rate } = limiter({ ratePerSecond: 1, burst: 1, maxKeys: 10 });
  assert.equal(rate.take('a').ok, true);
  assert.equal(rate.take('a').ok, false);
  assert.equal(rate.take('b').ok, true);
});

test('a refusal spends nothing: waiting the advised time admits even after many refusals', () => {
  const { clock, rate } = limiter({ ratePerSecond: 1, burst: 1, maxKeys: 10 });
  rate.take('a');
  let advised = 0;
  for (let i = 0; i < 50; i++) {
    const d = rate.take('a');
    assert.equal(d.ok, false);
    advised = d.ok ? 0 : d.retryAfterSeconds;
  }
  clock.ms += advised * 1000;
  assert.equal(rate.take('a').ok, true);
});

test('a clock that steps back refills nothing and drains nothing', () => {
  const { clock, rate } = limiter({ ratePerSecond: 1, burst: 2, maxKeys: 10 }, 10_000);
  rate.take('a');
  clock.ms = 0;
  assert.equal(rate.take('a').ok, true);
  assert.equal(rate.take('a').ok, false);
  clock.ms = 11_000;
  assert.equal(rate.take('a').ok, true);
});

test('the least recently used key is forgotten first, and comes back with a full bucket', () => {
  const { rate } = limiter({ ratePerSecond: 1, burst: 1, maxKeys: 2 });
  rate.take('a');
  rate.take('b');
  rate.take('a'); // refused, but a use: 'b' is now the least recently used
  rate.take('c'); // evicts 'b'
  assert.equal(rate.size, 2);
  assert.equal(rate.take('a').ok, false, "'a' was remembered");
  assert.equal(rate.take('b').ok, true, "'b' was forgotten and starts full");
});

test('bad options and costs are refused up front', () => {
  const base = { ratePerSecond: 1, burst: 2, maxKeys: 1 };
  for (const bad of [
    { ratePerSecond: 0 },
    { ratePerSecond: -1 },
    { ratePerSecond: Infinity },
    { ratePerSecond: NaN },
    { burst: 0.5 },
    { burst: Infinity },
    { maxKeys: 0 },
    { maxKeys: 1.5 },
  ]) {
    assert.throws(() => new RateLimiter({ ...base, ...bad }), RangeError, JSON.stringify(bad));
  }
  const rate = new RateLimiter(base);
  // A cost above the burst could never be admitted: no Retry-After would be honest.
  for (const cost of [0, -1, 3, NaN, Infinity]) {
    assert.throws(() => rate.take('a', cost), RangeError, String(cost));
  }
});

test('property: no window admits more than burst + rate × its length', () => {
  fc.assert(
    fc.property(limits, steps, ({ ratePerSecond, burst }, history) => {
      const { clock, rate } = limiter({ ratePerSecond, burst, maxKeys: 4 });
      const admitted: { at: number; cost: number }[] = [];
      for (const { waitMs, cost } of history) {
        clock.ms += waitMs;
        if (cost <= burst && rate.take('k', cost).ok) admitted.push({ at: clock.ms, cost });
      }
      for (let i = 0; i < admitted.length; i++) {
        let sum = 0;
        for (let j = i; j < admitted.length; j++) {
          sum += (admitted[j] as { cost: number }).cost;
          const span = (admitted[j] as { at: number }).at - (admitted[i] as { at: number }).at;
          assert.ok(
            sum <= burst + (ratePerSecond * span) / 1000 + 1e-6,
            `${sum} admitted in ${span} ms (burst ${burst}, rate ${ratePerSecond}/s)`,
          );
        }
      }
    }),
  );
});

test('property: retryAfterSeconds is honest and tight', () => {
  fc.assert(
    fc.property(
      limits,
      steps,
      fc.integer({ min: 1, max: 3 }),
      ({ ratePerSecond, burst }, history, wanted) => {
        const cost = Math.min(wanted, burst);
        // Two limiters given the same history: one waits the advised time, one a second less.
        const a = limiter({ ratePerSecond, burst, maxKeys: 4 });
        const b = limiter({ ratePerSecond, burst, maxKeys: 4 });
        const both = (waitMs: number, c: number) => {
          a.clock.ms += waitMs;
          b.clock.ms += waitMs;
          const da = a.rate.take('k', c);
          assert.deepEqual(b.rate.take('k', c), da);
          return da;
        };
        for (const step of history) both(step.waitMs, Math.min(step.cost, burst));
        // Drain until refused: bounded, each admitted take spends at least one token.
        let decision = both(0, cost);
        for (let i = 0; decision.ok && i <= burst; i++) decision = both(0, cost);
        assert.equal(decision.ok, false, 'a drained bucket refuses');
        if (decision.ok) return;
        const advised = decision.retryAfterSeconds;
        assert.ok(Number.isInteger(advised) && advised >= 1);
        a.clock.ms += advised * 1000;
        assert.equal(a.rate.take('k', cost).ok, true, `waited ${advised} s as advised`);
        if (advised > 1) {
          b.clock.ms += (advised - 1) * 1000;
          assert.equal(b.rate.take('k', cost).ok, false, `${advised - 1} s would have been enough`);
        }
      },
    ),
  );
});

test('property: memory stays within maxKeys and follows least-recent-use order', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }),
      (maxKeys, stream) => {
        const { rate } = limiter({ ratePerSecond: 1, burst: 1, maxKeys });
        // Model: the keys remembered, least recently used first.
        let model: string[] = [];
        for (const n of stream) {
          const key = `k${n}`;
          const remembered = model.includes(key);
          const decision = rate.take(key);
          // A remembered key already spent its only token (no time passes in this test).
          assert.equal(decision.ok, !remembered, key);
          model = [...model.filter((k) => k !== key), key].slice(-maxKeys);
          assert.ok(rate.size <= maxKeys);
          assert.equal(rate.size, model.length);
        }
      },
    ),
  );
});

test('300,000 distinct keys cost no more than maxKeys buckets and stay fast', () => {
  const { rate } = limiter({ ratePerSecond: 1, burst: 1, maxKeys: 1000 });
  const started = performance.now();
  for (let i = 0; i < 300_000; i++) rate.take(`k${i}`);
  assert.equal(rate.size, 1000);
  // O(1) per call: a scan over the buckets would take minutes here, not a fraction of a second.
  assert.ok(performance.now() - started < 10_000);
});
