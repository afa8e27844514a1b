import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError } from '@splitrelay/errors';
import { relayDeadline, withDeadline } from '../src/index.ts';

test('resolves with the value when in time', async () => {
  assert.equal(
    await withDeadline(Promise.resolve(7), relayDeadline(1000, undefined, 'egress-timeout', 'x')),
    7,
  );
});

test('fails with the named code when late, and when aborted', async () => {
  const never = new Promise<never>(() => {});
  await assert.rejects(
    withDeadline(never, relayDeadline(20, undefined, 'dns-timeout', 'slow')),
    (e: unknown) => {
      return e instanceof RelayError && e.code === 'dns-timeout' && e.details === 'slow';
    },
  );
  const ac = new AbortController();
  const p = withDeadline(never, relayDeadline(10_000, ac.signal, 'connection-timeout', 'x'));
  ac.abort();
  await assert.rejects(
    p,
    (e: unknown) => e instanceof RelayError && e.code === 'connection-timeout',
  );
  await assert.rejects(
    withDeadline(never, relayDeadline(10_000, ac.signal, 'internal', 'x')),
    RelayError,
  );
});

test('work given as a function gets a signal that fires on the timeout', async () => {
  let seen: AbortSignal | undefined;
  const late = withDeadline(
    (signal) => {
      seen = signal;
      return new Promise<never>(() => {});
    },
    { ms: 10, onTimeout: () => new Error('late') },
  );
  await assert.rejects(late, /late/);
  assert.equal(seen?.aborted, true);
});

test('without onAbort, an abort rejects with the signal reason', async () => {
  const ac = new AbortController();
  const p = withDeadline(new Promise<never>(() => {}), {
    ms: 10_000,
    signal: ac.signal,
    onTimeout: () => new Error('late'),
  });
  ac.abort(new Error('caller gave up'));
  await assert.rejects(p, /caller gave up/);
  await assert.rejects(
    withDeadline(Promise.resolve(1), { ms: 10, signal: ac.signal, onTimeout: () => new Error() }),
    /caller gave up/,
  );
});
