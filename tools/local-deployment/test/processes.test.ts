/**
 * The launcher of every helper process: ready detection, early exits and timeouts, the kept
 * lines, the raised open-files limit, the GC preload, CPU accounting and stopping.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  fdLimits,
  listenPort,
  records,
  spawnProcess,
  startApp,
  startProcess,
  type AppOptions,
  type RunningProcess,
} from '../src/index.ts';
// The test kit builds on this package: a package dependency back would be a cycle.
import { activeResources, assertNoLeakedHandles } from '../../test-kit/src/handles.ts';

const baseline = activeResources();
const FAKE = fileURLToPath(new URL('./fixtures/fake-app.ts', import.meta.url));
const running: RunningProcess[] = [];

/** The fake app, started as the launcher starts a real one. */
async function fake(mode: string, options: AppOptions = {}) {
  const app = await startApp('egress', '/nonexistent/config.json', {
    main: FAKE,
    ...options,
    env: { FAKE_MODE: mode, ...options.env },
  });
  running.push(app);
  return app;
}

after(async () => {
  await Promise.all(running.map((p) => p.stop()));
  await assertNoLeakedHandles({ baseline });
});

test('an app is ready at its ready record; every line is kept, JSON ones as records', async () => {
  const app = await fake('ready');
  assert.equal(app.ready.event, 'ready');
  assert.equal(app.ready.pid, app.pid);
  assert.deepEqual(app.ready.argv, ['--config', '/nonexistent/config.json']);
  assert.equal(listenPort(app), 4321);
  assert.equal((await app.waitFor('later', 5000)).event, 'later');
  assert.equal(app.lines[0], 'not a log record');
  assert.deepEqual(
    records(app).map((r) => r.event),
    ['starting', 'ready', 'later'],
  );
  await assert.rejects(app.waitFor('never', 50), /egress logged no "never" within 50 ms/);
  await app.stop();
  assert.equal(app.process.exitCode, 0);
  assert.equal(app.lines.at(-1), '{"event":"stopping"}');
  await app.stop();
});

test('an app that exits first fails with what it printed; one never ready is killed', async () => {
  await assert.rejects(fake('exit'), (err: Error) => {
    assert.match(err.message, /^egress exited \(3\) before ready:/);
    assert.match(err.message, /boom: a config error/);
    return true;
  });
  const started = Date.now();
  await assert.rejects(
    startProcess('silent', process.execPath, [FAKE], {
      env: { FAKE_MODE: 'silent' },
      timeoutMs: 300,
    }),
    /silent was not ready within 300 ms/,
  );
  assert.ok(Date.now() - started < 3000, 'killed at the deadline, not after a stop grace');
});

test('keepLines keeps the last lines and records only', async () => {
  const app = await fake('ready', { keepLines: 50, env: { FAKE_LINES: '500' } });
  await app.waitFor('later');
  assert.equal(app.lines.length, 50);
  assert.deepEqual(app.lines.slice(-2), ['line 499', '{"event":"later"}']);
});

test('fdLimit raises (or caps at the hard limit) the program’s own open-files limit', async () => {
  const { hard } = fdLimits();
  const lower = Math.min(hard, 4096) - 1;
  const app = await fake('ready', { fdLimit: lower });
  assert.equal(app.ready.fdSoftLimit, lower);
  assert.equal(app.ready.pid, app.pid, 'bash exec’d the program: the pid is its own');
  assert.equal(fdLimits(app.pid).soft, lower);
  if (Number.isFinite(hard)) {
    const capped = await fake('ready', { fdLimit: hard + 1 });
    assert.equal(capped.ready.fdSoftLimit, hard);
  }
});

test('gcOnSignal: gc exposed, collectGarbage() signals the preload and the app lives on', async () => {
  const plain = await fake('ready');
  assert.equal(plain.ready.gc, 'undefined');
  assert.throws(() => plain.collectGarbage(), /started without gcOnSignal/);
  const app = await fake('ready', { gcOnSignal: true });
  assert.equal(app.ready.gc, 'function');
  app.collectGarbage();
  await app.waitFor('usr2');
  assert.equal(app.process.exitCode, null);
});

test('cpu() reads the process tree’s CPU time from /proc', async () => {
  const app = await fake('ready');
  const { user, system } = app.cpu();
  // The fake app spins 200 ms before it is ready.
  assert.ok(user + system >= 0.1, `user ${user} s, system ${system} s`);
  await app.stop();
  assert.deepEqual(app.cpu(), { user: 0, system: 0 }, 'nothing once it is gone');
});

test('stop() kills what ignores SIGTERM; a program that cannot start stops at once', async () => {
  const app = await fake('stubborn');
  const started = Date.now();
  await app.stop();
  assert.equal(app.process.signalCode, 'SIGKILL');
  assert.ok(Date.now() - started >= 2900);
  const missing = spawnProcess('missing', '/nonexistent/program', []);
  await missing.stop();
  await assert.rejects(
    startProcess('missing', '/nonexistent/program', [], { timeoutMs: 5000 }),
    /missing exited \([^)]*\) before ready:\nspawn failed: spawn \/nonexistent\/program ENOENT/,
  );
});
