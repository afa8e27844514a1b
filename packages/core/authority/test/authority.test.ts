import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RelayError } from '@splitrelay/errors';
import {
  classifyHost,
  formatAuthority,
  formatIPv4,
  formatIPv6,
  parseAuthority,
  parseHost,
} from '../src/index.ts';

function rejects(text: string, reason?: RegExp): void {
  assert.throws(
    () => parseAuthority(text),
    (err: unknown) => {
      assert.ok(err instanceof RelayError, `${text}: not a RelayError`);
      assert.equal(err.code, 'malformed-request');
      assert.equal(err.status, 400);
      if (reason) assert.match(err.details, reason, text);
      return true;
    },
    text,
  );
}

test('accepts the three host kinds', () => {
  assert.deepEqual(parseAuthority('example.com:443'), {
    host: 'example.com',
    port: 443,
    kind: 'dns',
  });
  assert.deepEqual(parseAuthority('Example.COM.:80'), {
    host: 'example.com',
    port: 80,
    kind: 'dns',
  });
  assert.deepEqual(parseAuthority('_dmarc.example_1.org:1'), {
    host: '_dmarc.example_1.org',
    port: 1,
    kind: 'dns',
  });
  assert.deepEqual(parseAuthority('localhost:65535'), {
    host: 'localhost',
    port: 65535,
    kind: 'dns',
  });
  assert.deepEqual(parseAuthority('1.2.3.example:8080'), {
    host: '1.2.3.example',
    port: 8080,
    kind: 'dns',
  });
  assert.deepEqual(parseAuthority('192.0.2.1:443'), { host: '192.0.2.1', port: 443, kind: 'ipv4' });
  assert.deepEqual(parseAuthority('[::1]:443'), { host: '::1', port: 443, kind: 'ipv6' });
  assert.deepEqual(parseAuthority('[2001:DB8:0:0::1]:8443'), {
    host: '2001:db8::1',
    port: 8443,
    kind: 'ipv6',
  });
  assert.deepEqual(parseAuthority('[::ffff:127.0.0.1]:80'), {
    host: '::ffff:7f00:1',
    port: 80,
    kind: 'ipv6',
  });
});

test('rejects smuggled IPv4 forms', () => {
  for (const t of [
    '01.2.3.4:80',
    '1.2.3:80',
    '0x7f.1:80',
    '2130706433:80',
    '0x7f000001:80',
    '127.1:80',
    '1.2.3.4.:80',
    '0X7F.1:80',
    'a.0x:80',
  ]) {
    rejects(t, /numeric host|IPv4/);
  }
  rejects('1.2.3.256:80');
});

test('rejects ports that are missing, signed, zero, padded or too big', () => {
  rejects('example.com', /missing port/);
  rejects('example.com:', /missing port/);
  rejects('[::1]', /missing port/);
  rejects('[::1]443', /missing port/);
  for (const t of [
    'example.com:+443',
    'example.com:-1',
    'example.com:0',
    'example.com:0443',
    'example.com:65536',
    'example.com:4x3',
    'example.com:1e3',
    'example.com:443443',
  ]) {
    rejects(t, /port/);
  }
});

test('rejects userinfo, paths, spaces, percent signs and control characters', () => {
  rejects('a@b:1', /userinfo/);
  rejects('user:pw@example.com:443', /userinfo/);
  rejects('example.com:443/path', /path/);
  rejects('example.com/x:443', /path/);
  rejects('example.com:443?q', /path/);
  rejects('example.com :443', /whitespace/);
  rejects('exa\tmple.com:443', /whitespace/);
  rejects('example.com:443\r\n', /whitespace/);
  rejects('exa\u0000mple.com:443', /control/);
  rejects('ex%61mple.com:443', /percent/);
  rejects('[fe80::1%25eth0]:443', /percent/);
  rejects('bücher.example:443', /non-ASCII/);
});

test('rejects malformed hosts', () => {
  rejects(':443', /missing host/);
  rejects('::1:443', /brackets/);
  rejects('[::1:443', /unterminated/);
  rejects('[example.com]:443', /IPv6/);
  rejects('[1.2.3.4]:443', /IPv6/);
  rejects('a..b:443', /empty label/);
  rejects('.example.com:443', /empty label/);
  rejects('example.com..:443', /empty label/);
  rejects('.:443', /empty host/);
  rejects('-example.com:443', /label/);
  rejects('example-.com:443', /label/);
  rejects('exa*mple.com:443', /label/);
  rejects(`${'a'.repeat(64)}.com:443`, /63/);
  rejects(`${'a.'.repeat(126)}ab:443`, /253/);
  rejects('a]b:443', /bracket/);
  rejects('', /empty/);
  rejects('a'.repeat(300), /too long/);
});

test('reasons never echo the input', () => {
  for (const t of ['secret@example.com:1', 'secret.example:0x1', '[secret]:1', 'secret/:1']) {
    try {
      parseAuthority(t);
      assert.fail(t);
    } catch (err) {
      assert.ok(err instanceof RelayError);
      assert.doesNotMatch(err.details, /secret/);
    }
  }
});

test('names of exactly 253 characters and labels of 63 are accepted', () => {
  const name = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
  assert.equal(name.length, 253);
  assert.equal(parseAuthority(`${name}.:443`).host, name);
});

test('formatAuthority brackets IPv6 only', () => {
  assert.equal(formatAuthority({ host: '::1', port: 443 }), '[::1]:443');
  assert.equal(formatAuthority({ host: '10.0.0.1', port: 80 }), '10.0.0.1:80');
  assert.equal(formatAuthority({ host: 'example.com', port: 8080 }), 'example.com:8080');
});

test('classifyHost and parseHost take bare hosts, IPv6 unbracketed', () => {
  assert.equal(classifyHost('example.com'), 'dns');
  assert.equal(classifyHost('10.1.2.3'), 'ipv4');
  assert.equal(classifyHost('2001:db8::1'), 'ipv6');
  assert.deepEqual(parseHost('::FFFF:1.2.3.4'), { host: '::ffff:102:304', kind: 'ipv6' });
  assert.throws(() => classifyHost('0x7f.1'), RelayError);
  assert.throws(() => classifyHost(''), RelayError);
  assert.throws(() => classifyHost('[::1]'), RelayError);
});

const label = fc.stringMatching(/^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/);
const lastLabel = fc.stringMatching(/^[a-z](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/);
const dnsName = fc
  .tuple(fc.array(label, { maxLength: 4 }), lastLabel)
  .map(([ls, last]) => [...ls, last].join('.'))
  .filter((n) => n.length <= 253);
const host = fc.oneof(
  dnsName,
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIPv4),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIPv6),
);
const port = fc.integer({ min: 1, max: 65535 });

test('parse ∘ format is the identity on canonical authorities (property)', () => {
  fc.assert(
    fc.property(host, port, (h, p) => {
      const text = formatAuthority({ host: h, port: p });
      const parsed = parseAuthority(text);
      assert.equal(parsed.host, h);
      assert.equal(parsed.port, p);
      assert.equal(formatAuthority(parsed), text);
    }),
    { numRuns: 2000 },
  );
});

test('case and a trailing dot do not change a DNS authority (property)', () => {
  fc.assert(
    fc.property(dnsName, port, fc.boolean(), (h, p, dot) => {
      const text = `${h.toUpperCase()}${dot ? '.' : ''}:${p}`;
      assert.deepEqual(parseAuthority(text), { host: h, port: p, kind: 'dns' });
    }),
  );
});

test('arbitrary input throws nothing but RelayError (property)', () => {
  const check = (s: string): void => {
    try {
      const a = parseAuthority(s);
      // Whatever is accepted is already canonical.
      assert.deepEqual(parseAuthority(formatAuthority(a)), a);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      assert.equal(err.code, 'malformed-request');
    }
  };
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), check), { numRuns: 2000 });
  const near = fc.string({ unit: fc.constantFrom(...'0123456789abfx.:[]@%-_ Ab'), maxLength: 40 });
  fc.assert(fc.property(near, check), { numRuns: 5000 });
});
