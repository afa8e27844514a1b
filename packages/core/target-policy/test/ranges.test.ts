import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRanges, classifyAddress, compilePolicy } from '../src/index.ts';

const policy = compilePolicy({});

/** Reason for an address under the default policy, or 'allowed'. */
function verdict(ip: string): string {
  const v = classifyAddress(policy, ip);
  return v.allowed ? 'allowed' : v.reason;
}

/**
 * Each built-in range: an address inside (with the reason it must give) and one just outside
 * (with what that one must give instead). Every row of the table must appear here.
 */
const examples: ReadonlyArray<
  readonly [range: string, inside: string, reason: string, outside: string, outsideVerdict: string]
> = [
  ['0.0.0.0/8', '0.255.255.255', 'this network', '1.0.0.0', 'allowed'],
  ['10.0.0.0/8', '10.255.255.255', 'private', '11.0.0.0', 'allowed'],
  ['100.64.0.0/10', '100.127.255.255', 'shared address space (CGNAT)', '100.128.0.0', 'allowed'],
  ['127.0.0.0/8', '127.0.0.1', 'loopback', '126.255.255.255', 'allowed'],
  ['169.254.0.0/16', '169.254.0.1', 'link-local', '169.255.0.0', 'allowed'],
  ['169.254.169.254/32', '169.254.169.254', 'cloud metadata', '169.254.169.253', 'link-local'],
  ['172.16.0.0/12', '172.31.255.255', 'private', '172.32.0.0', 'allowed'],
  ['192.0.0.0/24', '192.0.0.8', 'IETF protocol assignments', '192.0.1.0', 'allowed'],
  ['192.0.2.0/24', '192.0.2.1', 'documentation', '192.0.3.0', 'allowed'],
  ['192.88.99.0/24', '192.88.99.1', '6to4 relay anycast', '192.88.98.255', 'allowed'],
  ['192.168.0.0/16', '192.168.1.1', 'private', '192.169.0.0', 'allowed'],
  ['198.18.0.0/15', '198.19.255.255', 'benchmarking', '198.20.0.0', 'allowed'],
  ['198.51.100.0/24', '198.51.100.7', 'documentation', '198.51.101.0', 'allowed'],
  ['203.0.113.0/24', '203.0.113.9', 'documentation', '203.0.112.255', 'allowed'],
  ['224.0.0.0/4', '239.255.255.250', 'multicast', '223.255.255.255', 'allowed'],
  ['240.0.0.0/4', '240.0.0.1', 'reserved', '239.255.255.255', 'multicast'],
  ['255.255.255.255/32', '255.255.255.255', 'limited broadcast', '255.255.255.254', 'reserved'],
  ['::/3', '1fff::1', 'reserved', '2000::1', 'allowed'],
  ['4000::/2', '4000::1', 'reserved', '3fff:ffff::1', 'allowed'],
  ['8000::/1', 'a000::1', 'reserved', '3ffe::1', 'allowed'],
  ['::/128', '::', 'unspecified', '::2', 'IPv4-compatible (deprecated)'],
  ['::1/128', '::1', 'loopback', '::2', 'IPv4-compatible (deprecated)'],
  ['::/96', '::7f00:1', 'IPv4-compatible (deprecated)', '::1:0:0', 'reserved'],
  ['::ffff:0:0/96', '::ffff:8.8.8.8', 'IPv4-mapped', '::fffe:ffff:ffff', 'reserved'],
  ['::ffff:0:0:0/96', '::ffff:0:8.8.8.8', 'IPv4-translated', '::fffe:0:808:808', 'reserved'],
  ['64:ff9b::/96', '64:ff9b::8.8.8.8', 'NAT64', '64:ff9b::1:0:0', 'reserved'],
  ['64:ff9b:1::/48', '64:ff9b:1::808:808', 'NAT64 local-use', '64:ff9b:2::1', 'reserved'],
  ['100::/64', '100::1', 'discard-only', '100:0:0:1::1', 'reserved'],
  ['2001::/23', '2001:100::1', 'IETF protocol assignments', '2001:200::1', 'allowed'],
  [
    '2001::/32',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    'Teredo',
    '2001:1::1',
    'IETF protocol assignments',
  ],
  ['2001:db8::/32', '2001:db8::1', 'documentation', '2001:db9::1', 'allowed'],
  ['2002::/16', '2002:808:808::1', '6to4', '2003::1', 'allowed'],
  ['3fff::/20', '3fff:fff::1', 'documentation', '3fff:1000::1', 'allowed'],
  ['fc00::/7', 'fd12:3456::1', 'unique local', 'fe00::1', 'reserved'],
  ['fd00:ec2::254/128', 'fd00:ec2::254', 'cloud metadata', 'fd00:ec2::253', 'unique local'],
  ['fe80::/10', 'febf:ffff::1', 'link-local', 'fec0::1', 'site-local (deprecated)'],
  ['fec0::/10', 'feff::1', 'site-local (deprecated)', 'ff00::1', 'multicast'],
  ['ff00::/8', 'ff02::1', 'multicast', 'feff:ffff::1', 'site-local (deprecated)'],
];

test('every built-in range has an example inside and outside', () => {
  const covered = new Set(examples.map((e) => e[0]));
  for (const r of builtinRanges) assert.ok(covered.has(r.text), `no example for ${r.text}`);
  assert.equal(covered.size, builtinRanges.length);
});

for (const [range, inside, reason, outside, outsideVerdict] of examples) {
  test(`${range}: ${inside} is refused (${reason}); ${outside} gives ${outsideVerdict}`, () => {
    assert.equal(verdict(inside), reason);
    assert.equal(verdict(outside), outsideVerdict);
  });
}

test('public addresses of both families are allowed', () => {
  for (const ip of [
    '1.1.1.1',
    '8.8.8.8',
    '93.184.215.14',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
  ]) {
    assert.equal(verdict(ip), 'allowed', ip);
  }
});

test('addresses with an IPv4 inside are judged by that IPv4 too', () => {
  assert.equal(verdict('::ffff:169.254.169.254'), 'IPv4-mapped, cloud metadata');
  assert.equal(verdict('::ffff:10.1.2.3'), 'IPv4-mapped, private');
  assert.equal(verdict('::ffff:127.0.0.1'), 'IPv4-mapped, loopback');
  assert.equal(verdict('64:ff9b::127.0.0.1'), 'NAT64, loopback');
  assert.equal(verdict('64:ff9b::a9fe:a9fe'), 'NAT64, cloud metadata');
  assert.equal(verdict('2002:7f00:1::1'), '6to4, loopback');
  assert.equal(verdict('2002:c0a8:101::'), '6to4, private');
  assert.equal(verdict('::ffff:0:127.0.0.1'), 'IPv4-translated, loopback');
});

test('anything that is not a plain address is refused', () => {
  for (const bad of ['fe80::1%eth0', 'example.com', '127.1', '', '[::1]']) {
    assert.equal(verdict(bad), 'not a plain IP address', bad);
  }
});
