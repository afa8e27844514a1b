import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError } from '@splitrelay/errors';
import {
  parseAbsoluteTarget,
  requestHeadersForOrigin,
  responseHeadersForClient,
} from '../src/index.ts';

test('absolute-form targets: default port, IPv6, query kept, fragment dropped', () => {
  assert.deepEqual(parseAbsoluteTarget('http://Example.com/a?b=c#d'), {
    target: { host: 'example.com', port: 80, kind: 'dns' },
    path: '/a?b=c',
    hostHeader: 'example.com',
  });
  assert.deepEqual(parseAbsoluteTarget('HTTP://example.com:8080'), {
    target: { host: 'example.com', port: 8080, kind: 'dns' },
    path: '/',
    hostHeader: 'example.com:8080',
  });
  assert.deepEqual(parseAbsoluteTarget('http://[2001:db8::1]?q'), {
    target: { host: '2001:db8::1', port: 80, kind: 'ipv6' },
    path: '/?q',
    hostHeader: '[2001:db8::1]',
  });
  assert.equal(parseAbsoluteTarget('http://[::1]:8443/x').hostHeader, '[::1]:8443');
});

test('absolute-form targets that are refused', () => {
  const cases: [string, RegExp][] = [
    ['/origin/form', /not a proxy request/],
    ['*', /not a proxy request/],
    ['https://example.com/', /CONNECT/],
    ['ftp://example.com/', /only http/],
    ['http://user:pw@example.com/', /userinfo/],
    ['http://0x7f.1/', /numeric/],
    ['http://example.com:/', /missing port/],
    ['http:///path', /missing host|empty/],
    ['http://exa%6dple.com/', /percent/],
  ];
  for (const [target, reason] of cases) {
    assert.throws(
      () => parseAbsoluteTarget(target),
      (err: unknown) => err instanceof RelayError && err.status === 400 && reason.test(err.details),
      target,
    );
  }
});

test('request fields: hop-by-hop, Connection-named and Proxy-* dropped, Host replaced, order kept', () => {
  const raw = [
    ['Host', 'wrong.example'],
    ['Connection', 'keep-alive, X-Secret'],
    ['X-Secret', 'hop'],
    ['Proxy-Authorization', 'PrivateToken token=abc'],
    ['Proxy-Connection', 'keep-alive'],
    ['Keep-Alive', 'timeout=5'],
    ['TE', 'trailers'],
    ['Transfer-Encoding', 'chunked'],
    ['Upgrade', 'websocket'],
    ['Expect', '100-continue'],
    ['Accept', 'text/html'],
    ['Cookie', 'a=1'],
    ['Cookie', 'b=2'],
  ].flat();
  const expected = [
    ['host', 'example.com:8080'],
    ['Accept', 'text/html'],
    ['Cookie', 'a=1'],
    ['Cookie', 'b=2'],
  ].flat();
  assert.deepEqual(requestHeadersForOrigin(raw, 'example.com:8080'), expected);
});

test('response fields: hop-by-hop and Connection-named dropped, repeated fields kept', () => {
  assert.deepEqual(
    responseHeadersForClient({
      connection: 'close, x-hop',
      'x-hop': '1',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'set-cookie': ['a=1', 'b=2'],
      'content-type': 'text/plain',
      'content-length': '3',
      missing: undefined,
    }),
    { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain', 'content-length': '3' },
  );
});
