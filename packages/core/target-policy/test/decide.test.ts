import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RelayError, type RelayErrorCode } from '@splitrelay/errors';
import { compilePolicy, decideLiteral, filterResolved, type Target } from '../src/index.ts';

const open = compilePolicy();
const loopback = compilePolicy({ allowCidrs: ['127.0.0.0/8', '::1/128'] });

const tcp = (host: string, port = 443): Target => ({ host, port, kind: 'tcp' });

function refusedWith(fn: () => unknown, code: RelayErrorCode, details?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RelayError, String(err));
    assert.equal(err.code, code, err.message);
    if (details !== undefined) assert.match(err.details, details);
    return true;
  });
}

test('IP literals are decided at once, in canonical form', () => {
  assert.deepEqual(decideLiteral(open, tcp('8.8.8.8', 53)), {
    action: 'connect',
    address: '8.8.8.8',
    family: 4,
    port: 53,
    kind: 'tcp',
  });
  assert.deepEqual(
    decideLiteral(open, { host: '[2606:4700:4700:0::1111]', port: 443, kind: 'udp' }),
    {
      action: 'connect',
      address: '2606:4700:4700::1111',
      family: 6,
      port: 443,
      kind: 'udp',
    },
  );
  refusedWith(
    () => decideLiteral(open, tcp('127.0.0.1')),
    'target-prohibited',
    /^destination 127\.0\.0\.1 is in a prohibited range \(loopback\)$/,
  );
  refusedWith(() => decideLiteral(open, tcp('[::1]')), 'target-prohibited', /\(loopback\)/);
  refusedWith(
    () => decideLiteral(open, tcp('::ffff:127.0.0.1')),
    'target-prohibited',
    /IPv4-mapped, loopback/,
  );
  refusedWith(
    () => decideLiteral(open, tcp('169.254.169.254', 80)),
    'target-prohibited',
    /cloud metadata/,
  );
  assert.equal(decideLiteral(loopback, tcp('127.0.0.1')).action, 'connect');
  assert.equal(decideLiteral(loopback, tcp('[::1]')).action, 'connect');
});

test('the port is checked before the host', () => {
  const web = compilePolicy({ allowPorts: [443] });
  refusedWith(() => decideLiteral(web, tcp('127.0.0.1', 22)), 'port-prohibited');
  refusedWith(() => decideLiteral(web, tcp('example.com', 0)), 'port-prohibited');
  refusedWith(() => decideLiteral(web, tcp('example.com', 70000)), 'malformed-request');
});

test('zone ids are refused', () => {
  refusedWith(() => decideLiteral(loopback, tcp('fe80::1%eth0')), 'target-prohibited', /zone id/);
  refusedWith(
    () => decideLiteral(loopback, tcp('[fe80::1%25eth0]')),
    'target-prohibited',
    /zone id/,
  );
  refusedWith(() => decideLiteral(loopback, tcp('example%.com')), 'malformed-request');
});

test('names are handed back to be resolved, lower-cased and without the trailing dot', () => {
  assert.deepEqual(decideLiteral(open, tcp('Example.COM.')), {
    action: 'resolve',
    name: 'example.com',
    port: 443,
    kind: 'tcp',
  });
  assert.equal(decideLiteral(open, tcp('_sip._udp.example.org')).action, 'resolve');
  assert.equal(decideLiteral(open, tcp('xn--bcher-kva.example')).action, 'resolve');
  assert.equal(decideLiteral(open, tcp('123.example')).action, 'resolve');
});

test('localhost names are refused before resolution, even when loopback is allowlisted', () => {
  for (const host of ['localhost', 'LOCALHOST', 'localhost.', 'foo.localhost', 'a.b.localhost.']) {
    refusedWith(
      () => decideLiteral(loopback, tcp(host)),
      'target-prohibited',
      /loopback name \(RFC 6761\)/,
    );
  }
  assert.equal(decideLiteral(open, tcp('localhost.example.com')).action, 'resolve');
  assert.equal(decideLiteral(open, tcp('notlocalhost')).action, 'resolve');
});

test('underscores and inner hyphens are names, as the CONNECT parser reads them', () => {
  for (const host of ['_dmarc.example.com', 'a-b.example', 'x--y.example', '1a.example']) {
    assert.equal(decideLiteral(open, tcp(host)).action, 'resolve', host);
  }
});

test('numeric shorthand that getaddrinfo would read as an address is not a name', () => {
  for (const host of [
    '127.1',
    '0x7f000001',
    '2130706433',
    '0177.0.0.1',
    '127.0.0.01',
    '0x7f.0.0.1',
    '1.2.3.4.5',
    '10.0.0.1.',
  ]) {
    refusedWith(() => decideLiteral(loopback, tcp(host)), 'malformed-request');
  }
});

test('malformed hosts are malformed-request', () => {
  for (const host of [
    '',
    '.',
    'a..b',
    'exa mple.com',
    'bücher.example',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}com`,
    '[example.com]',
    '[::1',
    '::1]',
    '1:2:3',
    'a/b',
    'user@host',
    // Refused by the CONNECT parser (@splitrelay/authority), so refused here too.
    '-foo-',
    'foo-.example',
    'a.-b.example',
  ]) {
    refusedWith(() => decideLiteral(open, tcp(host)), 'malformed-request');
  }
});

test('filterResolved keeps the permitted answers in order, without duplicates', () => {
  assert.deepEqual(
    filterResolved(open, 'example.com', [
      '2606:4700::1',
      '127.0.0.1',
      '8.8.8.8',
      '10.0.0.1',
      '2606:4700:0::1',
      '8.8.8.8',
    ]),
    [
      { address: '2606:4700::1', family: 6 },
      { address: '8.8.8.8', family: 4 },
    ],
  );
  assert.deepEqual(filterResolved(loopback, 'test.example', ['127.0.0.1', '::1']), [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ]);
});

test('filterResolved refuses a name whose every answer is prohibited, without echoing them', () => {
  assert.throws(
    () =>
      filterResolved(open, 'rebind.example', [
        '127.0.0.1',
        '10.1.2.3',
        '::ffff:10.1.2.3',
        'fe80::1%eth0',
      ]),
    (err: unknown) =>
      err instanceof RelayError &&
      err.code === 'target-prohibited' &&
      err.details ===
        'destination rebind.example resolves only to prohibited ranges (loopback; private; IPv4-mapped, private; not a plain IP address)',
  );
  refusedWith(() => filterResolved(open, 'empty.example', []), 'dns-error', /^NODATA$/);
});

test('fast-check: decideLiteral throws only RelayErrors, and a connect decision is always permitted', () => {
  const hostChars = fc.constantFrom(...'0123456789abcdefx.:[]%-_lLocahst'.split(''));
  fc.assert(
    fc.property(
      fc.string({ unit: hostChars, maxLength: 30 }),
      fc.integer({ min: -1, max: 70000 }),
      (host, port) => {
        try {
          const d = decideLiteral(open, tcp(host, port));
          if (d.action === 'connect')
            assert.deepEqual(filterResolved(open, 'x', [d.address]), [
              { address: d.address, family: d.family },
            ]);
        } catch (err) {
          assert.ok(err instanceof RelayError, String(err));
        }
      },
    ),
    { numRuns: 5000 },
  );
});
