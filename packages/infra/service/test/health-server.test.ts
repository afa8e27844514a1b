import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveHealth } from '../src/index.ts';

test('serves the snapshot as JSON, 200 when ok and 503 when not, 404 elsewhere', async () => {
  let ok = true;
  const health = await serveHealth('127.0.0.1', 0, () => ({
    ok,
    controlPlane: ok ? 'ok' : 'stale',
  }));
  try {
    const url = `http://127.0.0.1:${health.address.port}`;
    let res = await fetch(`${url}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, controlPlane: 'ok' });
    ok = false;
    res = await fetch(`${url}/health`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { controlPlane: string }).controlPlane, 'stale');
    assert.equal((await fetch(`${url}/other`)).status, 404);
  } finally {
    await health.close();
  }
});
