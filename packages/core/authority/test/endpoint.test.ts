import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RelayError } from '@splitrelay/errors';
import {
  formatAuthority,
  formatIPv4,
  formatIPv6,
  isCanonicalHost,
  isEndpoint,
  parseAuthority,
  parseEndpoint,
} from '../src/index.ts';

test('an endpoint is an authority in its one canonical spelling', () => {
  assert.deepEqual(parseEndpoint('egress.example:443'), {
    host: 'egress.example',
    port: 443,
    kind: 'dns',
  });
  assert.deepEqual(parseEndpoint('[2001:db8::5]:65535'), {
    host: '2001:db8::5',
    port: 65535,
    kind: 'ipv6',
  });
  assert.equal(isEndpoint('127.0.0.2:8443'), true);
  assert.equal(isEndpoint('_sip.example:5061'), true);
  for (const bad of [
    'Egress.example:443',
    'egress.example.:443',
    '[0:0:0:0:0:0:0:1]:443',
    '[::FFFF:1.2.3.4]:443',
    '[::ffff:1.2.3.4]:443',
    'egress.example:0',
    'egress.example:0443',
    '-egress.example:443',
    '1.2.3:443',
  ]) {
    assert.equal(isEndpoint(bad), false, bad);
    assert.throws(() => parseEndpoint(bad), RelayError, bad);
  }
});

test('allowPortZero admits port 0 and nothing else new', () => {
  assert.deepEqual(parseAuthority('127.0.0.1:0', { allowPortZero: true }), {
    host: '127.0.0.1',
    port: 0,
    kind: 'ipv4',
  });
  assert.equal(parseAuthority('[::1]:0', { allowPortZero: true }).port, 0);
  assert.throws(() => parseAuthority('127.0.0.1:0'), RelayError);
  for (const bad of ['127.0.0.1:00', '127.0.0.1:-0', '127.0.0.1:', '127.0.0.1:+0']) {
    assert.throws(() => parseAuthority(bad, { allowPortZero: true }), RelayError, bad);
  }
});

test('isCanonicalHost: the spelling parseHost gives, of the kind asked', () => {
  assert.equal(isCanonicalHost('example.com'), true);
  assert.equal(isCanonicalHost('example.com', 'dns'), true);
  assert.equal(isCanonicalHost('example.com', 'ipv4'), false);
  assert.equal(isCanonicalHost('Example.com'), false);
  assert.equal(isCanonicalHost('example.com.'), false);
  assert.equal(isCanonicalHost('1.2.3.4', 'ipv4'), true);
  assert.equal(isCanonicalHost('1.2.3.4', 'dns'), false);
  assert.equal(isCanonicalHost('2001:db8::1', 'ipv6'), true);
  assert.equal(isCanonicalHost('2001:DB8::1'), false);
  assert.equal(isCanonicalHost('[::1]'), false);
  assert.equal(isCanonicalHost(''), false);
});

const dnsName = fc
  .array(fc.stringMatching(/^[a-z](?:[a-z0-9_-]{0,20}[a-z0-9_])?$/), {
    minLength: 1,
    maxLength: 4,
  })
  .map((ls) => ls.join('.'));
const host = fc.oneof(
  dnsName,
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIPv4),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIPv6),
);

test('property: every formatted authority is an endpoint, and every other spelling is not', () => {
  fc.assert(
    fc.property(host, fc.integer({ min: 1, max: 65535 }), (h, port) => {
      const text = formatAuthority({ host: h, port });
      assert.deepEqual(parseEndpoint(text), parseAuthority(text));
      if (/[a-z]/.test(h)) assert.equal(isEndpoint(text.toUpperCase()), false);
      if (!h.includes(':')) assert.equal(isEndpoint(`${h}.:${port}`), false);
      assert.equal(isEndpoint(`${h.includes(':') ? `[${h}]` : h}:0${port}`), false);
    }),
    { numRuns: 2000 },
  );
});

test('property: arbitrary input throws nothing but RelayError', () => {
  const near = fc.string({ unit: fc.constantFrom(...'0123456789abfx.:[]-_A%@ '), maxLength: 30 });
  fc.assert(
    fc.property(fc.oneof(near, fc.string({ unit: 'binary', maxLength: 300 })), (s) => {
      try {
        const a = parseEndpoint(s);
        assert.equal(formatAuthority(a), s);
      } catch (err) {
        assert.ok(err instanceof RelayError, String(err));
        assert.equal(err.code, 'malformed-request');
      }
    }),
    { numRuns: 3000 },
  );
});
