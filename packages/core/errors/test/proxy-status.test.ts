import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RelayError,
  codeFromResponse,
  formatProxyStatus,
  parseProxyStatus,
  proxyStatusFor,
  relayErrorCodes,
  specOf,
} from '../src/index.ts';

test('RFC 9209 §2 example round-trips', () => {
  // From RFC 9209 §2.1.1: Proxy-Status: r34proxy; error=http_protocol_error; details="Malformed response header: space before colon"
  const field =
    'r34proxy; error=http_request_error; details="Malformed response header: space before colon"';
  const [m] = parseProxyStatus(field);
  assert.deepEqual(m, {
    proxy: 'r34proxy',
    error: 'http_request_error',
    details: 'Malformed response header: space before colon',
  });
});

test('a list keeps every member in order', () => {
  const field = 'SomeReverseProxy; error=dns_error; rcode="NXDOMAIN", "ExampleCDN"';
  const members = parseProxyStatus(field);
  assert.equal(members.length, 2);
  assert.equal(members[0]?.error, 'dns_error');
  assert.equal(members[0]?.rcode, 'NXDOMAIN');
  assert.equal(members[1]?.proxy, 'ExampleCDN');
});

test('details are escaped and non-ASCII is replaced, so a reason cannot break the header', () => {
  const out = formatProxyStatus({
    proxy: 'splitrelay-egress',
    error: 'dns_error',
    details: 'a"b\\c\né',
  });
  assert.equal(out, 'splitrelay-egress; error=dns_error; details="a\\"b\\\\c??"');
  assert.doesNotMatch(out, /[\r\n]/);
});

test('format then parse returns the same member (property)', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...relayErrorCodes),
      fc.string({ unit: 'grapheme-ascii' }),
      (code, details) => {
        const printable = details.replace(/[^\x20-\x7e]/g, '?');
        const header = proxyStatusFor('splitrelay-egress', new RelayError(code, printable));
        const [m] = parseProxyStatus(header);
        assert.equal(m?.error, specOf(code).proxyError);
        assert.equal(m?.details, printable);
      },
    ),
  );
});

test('parsing never throws on arbitrary input', () => {
  fc.assert(fc.property(fc.string(), (s) => void parseProxyStatus(s)));
});

test('every code maps back from its own status and error type', () => {
  for (const code of relayErrorCodes) {
    const spec = specOf(code);
    const back = codeFromResponse(spec.status, spec.proxyError);
    assert.equal(specOf(back).proxyError, spec.proxyError, code);
    assert.equal(specOf(back).status, spec.status, code);
  }
});

test('RelayError carries status, type, fault and retry advice', () => {
  const err = new RelayError('dns-error', 'NXDOMAIN');
  assert.equal(err.status, 502);
  assert.equal(err.proxyError, 'dns_error');
  assert.equal(err.fault, 'upstream');
  assert.equal(err.retryable, false);
});
