import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RelayError,
  http1Refusal,
  parseProxyStatus,
  parserErrorToRelayError,
} from '../src/index.ts';

test('a refusal is a complete HTTP/1.1 response with its reason', () => {
  const text = http1Refusal(
    'splitrelay-ingress',
    new RelayError('unknown-egress', 'no such egress'),
  );
  const [head, body] = text.split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.equal(body, 'no such egress\n');
  assert.match(head!, new RegExp(`Content-Length: ${body!.length}`));
  const proxyStatus = /Proxy-Status: (.*)/.exec(head!)?.[1] ?? '';
  assert.equal(parseProxyStatus(proxyStatus)[0]?.error, 'http_request_denied');
  assert.doesNotMatch(head!, /Retry-After/);
});

test('egress-down carries Retry-After', () => {
  assert.match(
    http1Refusal('x', new RelayError('egress-down', 'egress is down')),
    /^HTTP\/1\.1 503 .*\r\nRetry-After: 5\r\n/s,
  );
});

test('parser errors map to 431 and 400', () => {
  assert.equal(parserErrorToRelayError({ code: 'HPE_HEADER_OVERFLOW' }).status, 431);
  assert.equal(parserErrorToRelayError({ code: 'HPE_INVALID_METHOD' }).status, 400);
});
