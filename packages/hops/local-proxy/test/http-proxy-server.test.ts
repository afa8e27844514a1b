import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { RelayError, parseProxyStatus } from '@splitrelay/errors';
import { createHttpProxyServer } from '../src/index.ts';
import {
  closeServer,
  createEchoServer,
  createOrigin,
  dial,
  fakeConnector,
  listen,
  liveHandles,
} from './fixtures.ts';

const run = promisify(execFile);

const echo = createEchoServer();
const origin = createOrigin();
let echoPort = 0;
let originPort = 0;
let proxyPort = 0;
let proxy: http.Server;
let connector: ReturnType<typeof fakeConnector>;

before(async () => {
  echoPort = await listen(echo);
  originPort = await listen(origin);
  const upstream = Object.assign(new RelayError('target-prohibited', 'egress policy'), {
    proxyStatus: 'splitrelay-egress; error=destination_ip_prohibited; details="private range"',
  });
  connector = fakeConnector(
    {
      'echo.test': echoPort,
      'origin.test': originPort,
      '2001:db8::1': echoPort,
      'plain-echo.test': echoPort,
      'plain-origin.test': originPort,
    },
    {
      'refused.test': 'connection-refused',
      'blocked.test': upstream,
      'nxdomain.test': 'dns-error',
      'busy.test': new RelayError('limit-reached', 'egress flow limit reached', {
        retryAfterSeconds: 4,
      }),
    },
    new Set(['plain-echo.test', 'plain-origin.test']),
  );
  proxy = createHttpProxyServer({ connect: connector.connect, maxHeaderSize: 8 * 1024 });
  proxyPort = await listen(proxy);
});

after(async () => {
  await closeServer(proxy);
  await closeServer(echo);
  await closeServer(origin);
  for (const t of connector.tunnels) assert.ok(t.destroyed, 'a tunnel was left open');
  await sleep(10);
  assert.deepEqual(liveHandles(), []);
});

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

function parseHead(head: string): { status: number; headers: Map<string, string> } {
  const [statusLine, ...lines] = head.trimEnd().split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? '')?.[1]);
  const headers = new Map(
    lines.map((l) => [
      l.slice(0, l.indexOf(':')).toLowerCase(),
      l.slice(l.indexOf(':') + 1).trim(),
    ]),
  );
  return { status, headers };
}

/** Sends raw bytes and reads one response that ends with the connection. */
async function rawExchange(bytes: string | Buffer): Promise<RawResponse> {
  const { socket, reader } = await dial(proxyPort);
  socket.write(bytes);
  const { status, headers } = parseHead(await reader.through('\r\n\r\n'));
  const body = (await reader.end()).toString();
  socket.destroy();
  return { status, headers, body };
}

function proxyRequest(
  path: string,
  options: http.RequestOptions = {},
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: proxyPort, path, agent: false, ...options },
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
    req.end(body);
  });
}

test('CONNECT echoes, forwards bytes sent with the request, and keeps half-close', async () => {
  const { socket, reader } = await dial(proxyPort);
  socket.write('CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\nearly bytes|');
  const { status } = parseHead(await reader.through('\r\n\r\n'));
  assert.equal(status, 200);
  assert.equal((await reader.bytes(12)).toString(), 'early bytes|');
  const payload = Buffer.alloc(2 * 1024 * 1024, 'xyz');
  socket.end(payload);
  const got = await reader.end();
  assert.ok(got.equals(payload));
  assert.deepEqual(connector.targets.at(-1), { host: 'echo.test', port: 7 });
});

test('tunnels that are plain Duplex streams work for CONNECT and for undici', async () => {
  const { socket, reader } = await dial(proxyPort);
  socket.write('CONNECT plain-echo.test:7 HTTP/1.1\r\n\r\n');
  assert.equal(parseHead(await reader.through('\r\n\r\n')).status, 200);
  socket.end('half-closed through a plain duplex');
  assert.equal((await reader.end()).toString(), 'half-closed through a plain duplex');
  for (let i = 0; i < 3; i++) {
    const r = await proxyRequest(
      `http://plain-origin.test:${originPort}/plain/${i}`,
      { method: 'POST' },
      `body ${i}`,
    );
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body).body, `body ${i}`);
  }
});

test('CONNECT to a bracketed IPv6 literal passes the address unbracketed', async () => {
  const { socket, reader } = await dial(proxyPort);
  socket.write('CONNECT [2001:DB8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n');
  assert.equal(parseHead(await reader.through('\r\n\r\n')).status, 200);
  assert.deepEqual(connector.targets.at(-1), { host: '2001:db8::1', port: 443 });
  socket.destroy();
});

test('CONNECT refusals carry the status, Proxy-Status and a reason', async () => {
  const refused = await rawExchange(
    'CONNECT refused.test:443 HTTP/1.1\r\nHost: refused.test:443\r\n\r\n',
  );
  assert.equal(refused.status, 502);
  const [member] = parseProxyStatus(refused.headers.get('proxy-status') ?? '');
  assert.deepEqual(member, {
    proxy: 'splitrelay-client',
    error: 'connection_refused',
    details: 'refused by test (connection-refused)',
  });
  assert.match(refused.body, /connection-refused/);

  const dns = await rawExchange('CONNECT nxdomain.test:443 HTTP/1.1\r\n\r\n');
  assert.equal(dns.status, 502);
  assert.equal(parseProxyStatus(dns.headers.get('proxy-status') ?? '')[0]?.error, 'dns_error');
});

test("a later hop's Retry-After reaches the HTTP client, on CONNECT and absolute-form", async () => {
  const tunnel = await rawExchange('CONNECT busy.test:443 HTTP/1.1\r\n\r\n');
  assert.equal(tunnel.status, 503);
  assert.equal(tunnel.headers.get('retry-after'), '4');
  assert.equal(
    parseProxyStatus(tunnel.headers.get('proxy-status') ?? '')[0]?.error,
    'connection_limit_reached',
  );
  const forwarded = await proxyRequest('http://busy.test/');
  assert.equal(forwarded.status, 503);
  assert.equal(forwarded.headers['retry-after'], '4');
  // No advice, no header.
  const refused = await rawExchange('CONNECT refused.test:443 HTTP/1.1\r\n\r\n');
  assert.equal(refused.headers.has('retry-after'), false);
});

test('an upstream Proxy-Status on the error is passed through first', async () => {
  const r = await rawExchange('CONNECT blocked.test:443 HTTP/1.1\r\n\r\n');
  assert.equal(r.status, 403);
  const members = parseProxyStatus(r.headers.get('proxy-status') ?? '');
  assert.deepEqual(members, [
    { proxy: 'splitrelay-egress', error: 'destination_ip_prohibited', details: 'private range' },
    { proxy: 'splitrelay-client' },
  ]);
});

test('malformed CONNECT authorities are refused with 400 before the connector', async () => {
  const before = connector.targets.length;
  for (const authority of [
    '0x7f.1:80',
    'example.com',
    'user@example.com:443',
    '[::1:443',
    'example.com:0',
  ]) {
    const r = await rawExchange(`CONNECT ${authority} HTTP/1.1\r\n\r\n`);
    assert.equal(r.status, 400, authority);
    assert.equal(
      parseProxyStatus(r.headers.get('proxy-status') ?? '')[0]?.error,
      'http_request_error',
    );
  }
  assert.equal(connector.targets.length, before);
});

test('absolute-form GET is forwarded without hop-by-hop or Proxy-* fields', async () => {
  const r = await proxyRequest(`http://origin.test:${originPort}/a/b?c=d#frag`, {
    headers: {
      'Proxy-Authorization': 'PrivateToken token=abc',
      'Proxy-Connection': 'keep-alive',
      Connection: 'keep-alive, X-Private',
      'X-Private': 'hop only',
      'X-Custom': 'kept',
      Host: 'wrong.example',
    },
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-origin'], 'yes');
  assert.equal(r.headers['x-hop'], undefined, 'response hop-by-hop field named in Connection');
  const seen = JSON.parse(r.body) as {
    method: string;
    url: string;
    headers: Record<string, string>;
  };
  assert.equal(seen.method, 'GET');
  assert.equal(seen.url, '/a/b?c=d');
  assert.equal(seen.headers.host, `origin.test:${originPort}`);
  assert.equal(seen.headers['x-custom'], 'kept');
  for (const h of ['proxy-authorization', 'proxy-connection', 'x-private'])
    assert.equal(seen.headers[h], undefined, h);
  assert.deepEqual(connector.targets.at(-1), { host: 'origin.test', port: originPort });
});

test('absolute-form POST streams the body both ways', async () => {
  const body = 'z'.repeat(200_000);
  const r = await proxyRequest(
    `http://origin.test:${originPort}/upload`,
    { method: 'POST', headers: { 'content-type': 'text/plain' } },
    body,
  );
  assert.equal(r.status, 200);
  const seen = JSON.parse(r.body) as { method: string; body: string };
  assert.equal(seen.method, 'POST');
  assert.equal(seen.body, body);
});

test('absolute-form requests to a refused target get the mapped status', async () => {
  const r = await proxyRequest('http://refused.test/');
  assert.equal(r.status, 502);
  assert.equal(parseProxyStatus(String(r.headers['proxy-status']))[0]?.error, 'connection_refused');
  const bad = await proxyRequest('http://0x7f.1/');
  assert.equal(bad.status, 400);
});

test('https absolute-form and origin-form requests are refused with 400 and a reason', async () => {
  const https = await proxyRequest('https://origin.test/');
  assert.equal(https.status, 400);
  assert.match(https.body, /CONNECT/);
  const originForm = await proxyRequest('/just/a/path');
  assert.equal(originForm.status, 400);
  assert.match(originForm.body, /not a proxy request/);
  assert.equal(
    parseProxyStatus(String(originForm.headers['proxy-status']))[0]?.error,
    'http_request_error',
  );
});

test('a request head over maxHeaderSize gets 431, and the server keeps serving', async () => {
  const big = `GET http://origin.test:${originPort}/ HTTP/1.1\r\nHost: origin.test\r\nX-Big: ${'a'.repeat(16 * 1024)}\r\n\r\n`;
  const r = await rawExchange(big);
  assert.equal(r.status, 431);
  assert.equal(
    parseProxyStatus(r.headers.get('proxy-status') ?? '')[0]?.error,
    'http_request_error',
  );
  const ok = await proxyRequest(`http://origin.test:${originPort}/after`);
  assert.equal(ok.status, 200);
});

test('malformed input gets 400 and never takes the server down', async () => {
  for (const garbage of [
    'garbage\r\n\r\n',
    'GET http://origin.test/ HTTP/9.9\r\n\r\n',
    '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03',
    'GET / HTTP/1.1\r\nBad Header\r\n\r\n',
  ]) {
    const r = await rawExchange(Buffer.from(garbage, 'latin1'));
    assert.equal(r.status, 400, JSON.stringify(garbage));
  }
  const ok = await proxyRequest(`http://origin.test:${originPort}/still-up`);
  assert.equal(ok.status, 200);
});

test('curl -x fetches an http URL through the proxy', async () => {
  const { stdout } = await run('/usr/bin/curl', [
    '-sS',
    '--max-time',
    '10',
    '--noproxy',
    '',
    '-x',
    `http://127.0.0.1:${proxyPort}`,
    `http://127.0.0.1:${originPort}/via-http-proxy`,
  ]);
  const seen = JSON.parse(stdout) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/via-http-proxy');
  assert.equal(seen.headers['proxy-connection'], undefined);
  assert.deepEqual(connector.targets.at(-1), { host: '127.0.0.1', port: originPort });
});

test('curl -p tunnels through CONNECT', async () => {
  const { stdout } = await run('/usr/bin/curl', [
    '-sS',
    '--max-time',
    '10',
    '--noproxy',
    '',
    '-p',
    '-x',
    `http://127.0.0.1:${proxyPort}`,
    `http://origin.test:${originPort}/via-connect`,
  ]);
  assert.equal((JSON.parse(stdout) as { url: string }).url, '/via-connect');
});

test('curl sees the refusal status for CONNECT', async () => {
  const { stdout } = await run('/usr/bin/curl', [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_connect}',
    '--max-time',
    '10',
    '--noproxy',
    '',
    '-p',
    '-x',
    `http://127.0.0.1:${proxyPort}`,
    'http://refused.test/',
  ]).catch((err: { stdout: string }) => err);
  assert.equal(stdout, '502');
});
