/** The window quota (the issuer's per-subscriber token limit): counts units, exact Retry-After, fixed windows. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HOUR_MS, WindowQuota } from '../src/index.ts';

const T0 = 1_800_000_000_000;

test('a batch counts each token, and a batch that would overflow takes nothing', () => {
  const limiter = new WindowQuota(20);
  assert.deepEqual(limiter.take('alice', T0, 16), { ok: true, remaining: 4 });
  const refused = limiter.take('alice', T0 + 1000, 5);
  assert.equal(refused.ok, false);
  assert.deepEqual(limiter.take('alice', T0 + 1000, 4), { ok: true, remaining: 0 });
  assert.equal(limiter.check('alice', T0 + 2000).ok, false);
  // Others are not affected.
  assert.equal(limiter.check('bob', T0 + 2000).ok, true);
});

test('Retry-After is the rest of the window, the first refusal is flagged, then it resets', () => {
  const limiter = new WindowQuota(1);
  limiter.take('alice', T0, 1);
  const a = limiter.check('alice', T0 + 1500);
  const b = limiter.check('alice', T0 + 2000);
  assert.deepEqual(a, { ok: false, retryAfterSeconds: 3599, first: true });
  assert.deepEqual(b, { ok: false, retryAfterSeconds: 3598, first: false });
  assert.deepEqual(limiter.check('alice', T0 + HOUR_MS), { ok: true, remaining: 1 });
});

test('refund gives tokens back; prune forgets ended windows', () => {
  const limiter = new WindowQuota(3);
  limiter.take('alice', T0, 3);
  limiter.refund('alice', 2);
  assert.deepEqual(limiter.take('alice', T0, 2), { ok: true, remaining: 0 });
  limiter.take('bob', T0 + HOUR_MS / 2, 1);
  assert.equal(limiter.size, 2);
  limiter.prune(T0 + HOUR_MS);
  assert.equal(limiter.size, 1);
  limiter.prune(T0 + 2 * HOUR_MS);
  assert.equal(limiter.size, 0);
});

test('never more than the limit per window, whatever the sequence (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 120_000 }), fc.integer({ min: 1, max: 20 })), {
        maxLength: 60,
      }),
      (limit, steps) => {
        const limiter = new WindowQuota(limit);
        let now = T0;
        let windowStart: number | undefined;
        let used = 0;
        for (const [dt, n] of steps) {
          now += dt;
          if (windowStart === undefined || now >= windowStart + HOUR_MS) {
            windowStart = now;
            used = 0;
          }
          const r = limiter.take('s', now, n);
          assert.equal(r.ok, used + n <= limit);
          if (r.ok) used += n;
          assert.ok(used <= limit);
          if (!r.ok) assert.ok(r.retryAfterSeconds >= 1 && r.retryAfterSeconds <= 3600);
        }
      },
    ),
  );
});
