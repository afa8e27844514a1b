import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError } from '@splitrelay/errors';
import { RateLimiter, SESSION_RATE_REFUSAL, SessionRateLimit } from '../src/index.ts';

test('over its rate an address gets 429 with Retry-After; another address is not affected', () => {
  let clock = 0;
  const rate = new SessionRateLimit(
    new RateLimiter({ ratePerSecond: 1, burst: 2, maxKeys: 100, now: () => clock }),
  );
  rate.admit('192.0.2.5');
  rate.admit('192.0.2.5');
  assert.throws(
    () => rate.admit('192.0.2.5'),
    (err: unknown) =>
      err instanceof RelayError &&
      err.status === 429 &&
      err.details === SESSION_RATE_REFUSAL &&
      (err.retryAfterSeconds ?? 0) >= 1,
  );
  // An IPv4-mapped spelling of the same address shares its bucket.
  assert.throws(() => rate.admit('::ffff:192.0.2.5'), RelayError);
  rate.admit('192.0.2.9');
  assert.equal(rate.refused, 2);
  clock += 1000;
  rate.admit('192.0.2.5');
});
