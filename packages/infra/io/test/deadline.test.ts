import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError } from '@splitrelay/errors';
import { withDeadline } from '../src/index.ts';

test('resolves with the value when in time', async () => {
  assert.equal(await withDeadline(Promise.resolve(7), 1000, undefined, 'egress-timeout', 'x'), 7);
});

test('fails with the named code when late, and when aborted', async () => {
  const never = new Promise<never>(() => {});
  await assert.rejects(withDeadline(never, 20, undefined, 'dns-timeout', 'slow'), (e: unknown) => {
    return e instanceof RelayError && e.code === 'dns-timeout' && e.details === 'slow';
  });
  const ac = new AbortController();
  const p = withDeadline(never, 10_000, ac.signal, 'connection-timeout', 'x');
  ac.abort();
  await assert.rejects(
    p,
    (e: unknown) => e instanceof RelayError && e.code === 'connection-timeout',
  );
  await assert.rejects(withDeadline(never, 10_000, ac.signal, 'internal', 'x'), RelayError);
});
