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

test('published documents are served at their paths with their media types, and nothing else', async () => {
  let served = 0;
  const health = await serveHealth('127.0.0.1', 0, () => ({ ok: true }), {
    '/geofeed.csv': () => {
      served++;
      return { type: 'text/csv; charset=utf-8', body: '192.0.2.0/24,NL,,,\n' };
    },
  });
  try {
    const url = `http://127.0.0.1:${health.address.port}`;
    const res = await fetch(`${url}/geofeed.csv`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.equal(await res.text(), '192.0.2.0/24,NL,,,\n');
    assert.equal(served, 1);
    // Inherited names are not routes, and only GET serves.
    for (const path of ['/constructor', '/toString', '/geofeed.csv?x', '/geofeed.csv/']) {
      assert.equal((await fetch(`${url}${path}`)).status, 404, path);
    }
    assert.equal((await fetch(`${url}/geofeed.csv`, { method: 'POST' })).status, 404);
    assert.equal(served, 1);
  } finally {
    await health.close();
  }
});
