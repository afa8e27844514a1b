import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { findLabProcesses } from '../src/lab-processes.ts';
import { LAB_ID_ENV } from '../src/names.ts';
import { identity } from '../src/proc.ts';

const find = (recorded: { pid: number; startTime: number | undefined }[]): number[] =>
  findLabProcesses({ id: 'sra-0000ff', netnsInodes: [], recorded }).map((p) => p.pid);

test('a process is a lab process by marker, or by recorded pid AND start time, or in a live recorded group', async (t) => {
  // A group leader that forks a member, with no marker: only the manifest can claim them.
  const leader = spawn('sh', ['-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore' });
  const marked = spawn('sleep', ['30'], {
    env: { ...process.env, [LAB_ID_ENV]: 'sra-0000ff' },
    stdio: 'ignore',
  });
  t.after(async () => {
    process.kill(-leader.pid!, 'SIGKILL');
    marked.kill('SIGKILL');
    await Promise.all([once(leader, 'exit'), once(marked, 'exit')]);
  });
  await new Promise((r) => setTimeout(r, 200));
  const me = identity(leader.pid!);
  assert.ok(me.startTime !== undefined);

  assert.deepEqual(find([]), [marked.pid], 'the marker alone');
  const claimed = find([me]);
  assert.ok(claimed.includes(leader.pid!));
  assert.equal(claimed.length, 3, 'the leader, its forked member, the marked one');
  assert.deepEqual(
    find([{ pid: leader.pid!, startTime: me.startTime! - 1 }]),
    [marked.pid],
    'a reused pid is a stranger',
  );
  assert.deepEqual(
    find([{ pid: leader.pid!, startTime: undefined }]),
    [marked.pid],
    'no start time, no claim',
  );
  assert.ok(
    !find([{ pid: process.pid, startTime: identity(process.pid).startTime }]).includes(process.pid),
    'never the caller',
  );
});
