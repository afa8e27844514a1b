import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError, RETRY_AFTER_SECONDS, http1Refusal, refusalHeaders } from '../src/index.ts';

test('a refusal carries Retry-After only when a retry can help soon', () => {
  assert.equal(
    refusalHeaders('p', new RelayError('egress-down', 'down'))['retry-after'],
    String(RETRY_AFTER_SECONDS),
  );
  assert.equal(
    refusalHeaders('p', new RelayError('rate-limited', 'slow down'))['retry-after'],
    '1',
  );
  assert.equal(
    refusalHeaders('p', new RelayError('rate-limited', 'x', { retryAfterSeconds: 7 }))[
      'retry-after'
    ],
    '7',
  );
  assert.equal(
    refusalHeaders('p', new RelayError('unknown-egress', 'no'))['retry-after'],
    undefined,
  );
});

test("a 407 carries the error's own challenge, on HTTP/1.1 with canonical names", () => {
  const err = new RelayError('token-required', 'a Privacy Pass token is required', {
    headers: { 'proxy-authenticate': 'PrivateToken challenge="AAE", token-key="AQ"' },
  });
  assert.equal(err.status, 407);
  const h2 = refusalHeaders('splitrelay-ingress', err);
  assert.equal(h2['proxy-authenticate'], 'PrivateToken challenge="AAE", token-key="AQ"');
  assert.match(h2['proxy-status']!, /error=http_request_denied/);
  const head = http1Refusal('splitrelay-ingress', err);
  assert.match(head, /^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
  assert.match(head, /\r\nProxy-Authenticate: PrivateToken challenge="AAE", token-key="AQ"\r\n/);
  assert.match(head, /\r\nProxy-Status: splitrelay-ingress; error=http_request_denied/);
});

test('status codes of the admission refusals', () => {
  assert.equal(new RelayError('token-invalid', 'x').status, 407);
  assert.equal(new RelayError('rate-limited', 'x').status, 429);
  assert.equal(new RelayError('auth-unavailable', 'x').status, 503);
  assert.equal(new RelayError('auth-unavailable', 'x').retryAfterSeconds, RETRY_AFTER_SECONDS);
});
