/**
 * The loopback OHTTP endpoint with a stand-in fetch: both URL forms reach fetch with the
 * client's method, fields (none of the hop's own) and body; the answer streams back; bad
 * targets and fetch refusals are statuses.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { RelayError } from '@splitrelay/errors';
import { createOhttpEndpoint, requestedUrl } from '../src/index.ts';

const calls: { url: string; method: string; headers: Headers; body?: string }[] = [];
let server: http.Server;
let port = 0;

before(async () => {
  server = createOhttpEndpoint({
    maxBodyBytes: 100,
    async fetch(url, init) {
      const body = init.body ? Buffer.from(init.body as Uint8Array).toString() : undefined;
      calls.push({
        url,
        method: init.method ?? 'GET',
        headers: new Headers(init.headers),
        ...(body !== undefined ? { body } : {}),
      });
      if (url.includes('refused')) throw new RelayError('target-prohibited', 'private address');
      return new Response(`answer to ${url}`, { status: 202, headers: { 'x-from': 'gateway' } });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function ask(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(init.body);
    },
  );
}

test('absolute form and URL-as-path both reach fetch; the answer comes back', async () => {
  for (const path of ['https://target.example/a?b=1', '/https://target.example/a?b=1']) {
    const res = await ask(path, {
      method: 'POST',
      headers: { 'x-mine': 'yes', 'proxy-authorization': 'secret', connection: 'keep-alive' },
      body: 'hello',
    });
    assert.equal(res.status, 202);
    assert.equal(res.headers['x-from'], 'gateway');
    assert.equal(res.body, 'answer to https://target.example/a?b=1');
    const call = calls.at(-1)!;
    assert.equal(call.method, 'POST');
    assert.equal(call.body, 'hello');
    assert.equal(call.headers.get('x-mine'), 'yes');
    assert.equal(call.headers.get('proxy-authorization'), null);
    assert.equal(call.headers.get('host'), null);
  }
});

test('refusals: not a URL 400, body too large 413, fetch refused with its status', async () => {
  assert.equal((await ask('/not-a-url')).status, 400);
  assert.equal(
    (await ask('/https://t.example/', { method: 'POST', body: 'x'.repeat(200) })).status,
    413,
  );
  const refused = await ask('/https://refused.example/');
  assert.equal(refused.status, 403);
  assert.match(String(refused.headers['proxy-status']), /destination_ip_prohibited/);
});

test('requestedUrl: forms, fragments and credentials', () => {
  assert.equal(requestedUrl('/http://a.example/x#frag').href, 'http://a.example/x');
  assert.throws(() => requestedUrl('/https://user:pw@a.example/'), /credentials/);
  assert.throws(() => requestedUrl('/ftp://a.example/'), /name the URL/);
});
