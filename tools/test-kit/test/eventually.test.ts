/** The one bounded wait: what counts as an answer, retries, fast failures and the deadline. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../src/eventually.ts';

test('resolves with the first answer that is neither false nor undefined', async () => {
  const answers = [undefined, false, 0, 'later'];
  let calls = 0;
  assert.equal(await eventually('a count', () => answers[calls++], { intervalMs: 1 }), 0);
  assert.equal(calls, 3, 'undefined and false were asked again, 0 is an answer');
  assert.equal(await eventually('yes', () => true), true);
  const record = { event: 'ready' };
  assert.equal(await eventually('a record', async () => record), record);
});

test('asks again after an error and names its last one as the cause at the deadline', async () => {
  let calls = 0;
  const flaky = await eventually(
    'a flaky peer',
    () => {
      if (++calls < 3) throw new Error(`refused ${calls}`);
      return 'up';
    },
    { intervalMs: 1 },
  );
  assert.equal(flaky, 'up');
  await assert.rejects(
    eventually(
      'a peer that never answers',
      async () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 50, intervalMs: 10 },
    ),
    (err: Error) => {
      assert.match(err.message, /^timed out after 50 ms \(\d+ tries\) waiting for a peer that/);
      assert.equal((err.cause as Error).message, 'connection refused');
      return true;
    },
  );
});

test('an assertion inside the check fails at once', async () => {
  let calls = 0;
  await assert.rejects(
    eventually(
      'a well-formed answer',
      () => {
        calls++;
        assert.equal(1 + 1, 3, 'wrong, not late');
        return true;
      },
      { timeoutMs: 5000 },
    ),
    (err: Error) => err instanceof assert.AssertionError && /wrong, not late/.test(err.message),
  );
  assert.equal(calls, 1);
});

test('the deadline: tries spaced by intervalMs, one last try at the end, a named timeout', async () => {
  const at: number[] = [];
  const started = Date.now();
  let missing = 'three';
  await assert.rejects(
    eventually(
      () => `the count (still missing ${missing})`,
      () => {
        at.push(Date.now() - started);
        missing = String(at.length);
        return false;
      },
      { timeoutMs: 200, intervalMs: 50 },
    ),
    /^Error: timed out after 200 ms \(\d+ tries\) waiting for the count \(still missing \d+\)$/,
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 200 && elapsed < 1000, `gave up after ${elapsed} ms`);
  assert.ok(at.length >= 3 && at.length <= 6, `${at.length} tries`);
  assert.ok(at.at(-1)! >= 195, `the last try was at ${at.at(-1)} ms`);
  for (let i = 1; i < at.length - 1; i++)
    assert.ok(at[i]! - at[i - 1]! >= 45, `tries ${at[i - 1]} and ${at[i]} ms`);
  // A zero timeout still asks once.
  let once = 0;
  await assert.rejects(
    eventually('x', () => void once++, { timeoutMs: 0 }),
    /1 tries/,
  );
  assert.equal(once, 1);
});
