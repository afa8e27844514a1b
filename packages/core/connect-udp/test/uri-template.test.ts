import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RelayError } from '@splitrelay/errors';
import { parseHost } from '@splitrelay/authority';
import { formatUdpPath, parseUdpPath, UDP_PATH_PREFIX } from '../src/index.ts';

function rejects(path: string, reason?: RegExp): void {
  assert.throws(
    () => parseUdpPath(path),
    (err: unknown) => {
      assert.ok(err instanceof RelayError, `${path}: not a RelayError`);
      assert.equal(err.code, 'malformed-request');
      assert.equal(err.status, 400);
      if (reason) assert.match(err.details, reason, path);
      return true;
    },
    path,
  );
}

test('RFC 9298 examples', () => {
  // §3.4's HTTP/2 example request for 192.0.2.42:443.
  assert.equal(
    formatUdpPath({ host: '192.0.2.42', port: 443 }),
    '/.well-known/masque/udp/192.0.2.42/443/',
  );
  assert.deepEqual(parseUdpPath('/.well-known/masque/udp/192.0.2.42/443/'), {
    host: '192.0.2.42',
    port: 443,
    kind: 'ipv4',
  });
  // §3: "2001:db8::42" is encoded as "2001%3Adb8%3A%3A42".
  assert.equal(
    formatUdpPath({ host: '2001:db8::42', port: 443 }),
    '/.well-known/masque/udp/2001%3Adb8%3A%3A42/443/',
  );
  assert.deepEqual(parseUdpPath('/.well-known/masque/udp/2001%3Adb8%3A%3A42/443/'), {
    host: '2001:db8::42',
    port: 443,
    kind: 'ipv6',
  });
});

test('accepts DNS names and equivalent escapes, returning canonical hosts', () => {
  assert.deepEqual(parseUdpPath('/.well-known/masque/udp/Example.COM/53/'), {
    host: 'example.com',
    port: 53,
    kind: 'dns',
  });
  assert.deepEqual(parseUdpPath('/.well-known/masque/udp/example.com./53/').host, 'example.com');
  // Lower-case hex and escaped unreserved characters mean the same bytes (RFC 3986 §2.1, §2.3).
  assert.equal(parseUdpPath('/.well-known/masque/udp/2001%3adb8%3a%3a42/1/').host, '2001:db8::42');
  assert.equal(parseUdpPath('/.well-known/masque/udp/%61.example/1/').host, 'a.example');
  assert.equal(parseUdpPath('/.well-known/masque/udp/%3A%3A1/65535/').host, '::1');
  assert.equal(
    formatUdpPath({ host: '::ffff:192.0.2.1', port: 1 }),
    `${UDP_PATH_PREFIX}%3A%3Affff%3Ac000%3A201/1/`,
  );
  assert.equal(
    formatUdpPath({ host: 'WWW.Example.org.', port: 8443 }),
    `${UDP_PATH_PREFIX}www.example.org/8443/`,
  );
});

test('refuses anything but the exact template shape', () => {
  const p = UDP_PATH_PREFIX;
  const cases: [string, RegExp?][] = [
    ['', /template/],
    ['/', /template/],
    [p, /host and port/],
    [`${p}example.com/443`, /slash/],
    [`${p}example.com/443/?x=1`, /query/],
    [`${p}example.com/443/#frag`, /fragment/],
    [`${p}example.com?/443/`, /query/],
    [`${p}example.com/443/extra/`, /host and port/],
    [`${p}example.com//443/`, /host and port/],
    [`${p}/443/`, /empty target_host/],
    [`${p}example.com//`, /port/],
    [`/.well-known/masque/UDP/example.com/443/`, /template/],
    [`/.well-known/masque/udp`, /template/],
    [`//.well-known/masque/udp/example.com/443/`, /template/],
    [`${p}../443/`],
    [`${p}./443/`],
    [`${p}%2E%2E/443/`],
    [`${p}..%2F..%2Fetc/443/`],
    [`${p}a/../b/443/`, /host and port/],
  ];
  for (const [path, reason] of cases) rejects(path, reason);
});

test('refuses tricks in target_host', () => {
  const p = UDP_PATH_PREFIX;
  const cases: [string, RegExp?][] = [
    [`${p}2001:db8::42/443/`, /percent-encoded/], // raw ':' is not what expansion produces
    [`${p}[2001%3Adb8%3A%3A42]/443/`, /percent-encoded/],
    [`${p}%5B2001%3Adb8%3A%3A42%5D/443/`],
    [`${p}%3A%3A1%25eth0/443/`, /percent/], // zone ID
    [`${p}example.com%252F/443/`, /percent/], // double encoding stays one level
    [`${p}%25/443/`, /percent/],
    [`${p}example.com%00/443/`, /control/],
    [`${p}%00/443/`, /control/],
    [`${p}example.com%2F..%2F/443/`, /paths/],
    [`${p}example.com%5C/443/`, /paths/],
    [`${p}evil%40example.com/443/`, /userinfo/],
    [`${p}%20example.com/443/`, /whitespace/],
    [`${p}exa mple.com/443/`, /percent-encoded/],
    [`${p}ex%C3%A4mple.com/443/`, /non-ASCII/],
    [`${p}exämple.com/443/`, /percent-encoded/],
    [`${p}example.com%/443/`, /percent-encoding/],
    [`${p}example.com%4/443/`, /percent-encoding/],
    [`${p}example.com%G1/443/`, /percent-encoding/],
    [`${p}0x7f.1/443/`, /numeric/],
    [`${p}127.1/443/`, /numeric/],
    [`${p}2130706433/443/`, /numeric/],
    [`${p}example..com/443/`, /empty label/],
    [`${p}-example.com/443/`, /characters/],
    [`${p}${'a'.repeat(64)}.com/443/`, /63/],
    [`${p}${'a'.repeat(800)}/443/`, /too long/],
    [`${p}example.com\\/443/`, /percent-encoded/],
  ];
  for (const [path, reason] of cases) rejects(path, reason);
});

test('refuses bad ports, never percent-decoding them', () => {
  const p = `${UDP_PATH_PREFIX}example.com/`;
  for (const port of [
    '0',
    '65536',
    '0443',
    '+443',
    '-1',
    '443.0',
    '%34%34%33',
    '4%343',
    ' 443',
    '1e3',
    '99999999',
  ]) {
    rejects(`${p}${port}/`, /port/);
  }
  assert.throws(() => formatUdpPath({ host: 'example.com', port: 0 }), RelayError);
  assert.throws(() => formatUdpPath({ host: 'example.com', port: 65536 }), RelayError);
  assert.throws(() => formatUdpPath({ host: 'example.com', port: 1.5 }), RelayError);
  assert.throws(() => formatUdpPath({ host: '[::1]', port: 443 }), RelayError);
  assert.throws(() => formatUdpPath({ host: 'a/b', port: 443 }), RelayError);
});

const dnsName = fc.domain().filter((d) => d.length <= 253);
const hostArb = fc.oneof(dnsName, fc.ipV4(), fc.ipV6());
const portArb = fc.integer({ min: 1, max: 65535 });

test('round trip: format then parse gives the canonical host and the port', () => {
  fc.assert(
    fc.property(hostArb, portArb, (host, port) => {
      const path = formatUdpPath({ host, port });
      assert.ok(/^[\x21-\x7e]+$/.test(path), 'path is printable ASCII');
      assert.ok(!path.includes(':') && !path.includes('[') && !path.includes('?'));
      const canonical = parseHost(host);
      assert.deepEqual(parseUdpPath(path), { host: canonical.host, port, kind: canonical.kind });
    }),
    { numRuns: 1000 },
  );
});

test('whatever parses is a valid host and formats back to the same target', () => {
  const segmentChar = fc.constantFrom(
    ...'abcXYZ019-._~:/%?#@[]\\ '.split(''),
    '%3A',
    '%3a',
    '%2E',
    '%25',
    '%00',
    '%2F',
    '%41',
  );
  const segment = fc.array(segmentChar, { maxLength: 20 }).map((cs) => cs.join(''));
  const pathArb = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 60 }).map((s) => `${UDP_PATH_PREFIX}${s}`),
    fc.tuple(segment, segment).map(([h, port]) => `${UDP_PATH_PREFIX}${h}/${port}/`),
    fc.tuple(segment, portArb).map(([h, port]) => `${UDP_PATH_PREFIX}${h}/${port}/`),
  );
  fc.assert(
    fc.property(pathArb, (path) => {
      let target;
      try {
        target = parseUdpPath(path);
      } catch (err) {
        assert.ok(err instanceof RelayError, String(err));
        assert.equal(err.code, 'malformed-request');
        return;
      }
      assert.deepEqual(parseHost(target.host), { host: target.host, kind: target.kind });
      assert.deepEqual(parseUdpPath(formatUdpPath(target)), target);
    }),
    { numRuns: 3000 },
  );
});
