import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hostRouteProblems,
  localRoutesFromIpJson,
  parseAddressPools,
  unusablePrefixes,
} from '../src/index.ts';

const pools = (() => {
  const r = parseAddressPools({
    defaultRegion: 'a',
    entropyFloorBits: 0,
    regions: [
      {
        id: 'a',
        country: 'NL',
        ipv4: ['192.0.2.0/29', '198.51.100.0/24'],
        ipv6: ['2001:db8:1::/64'],
      },
      { id: 'b', country: 'BE', ipv4: ['203.0.113.0/30'], ipv6: ['2001:db8:2::/64'] },
    ],
  });
  assert.ok(r.ok);
  return r.pools;
})();

// The shapes `ip -j -4 route show table local` and `ip -j -6 route show table local` print.
const v4 = [
  {
    type: 'local',
    dst: '127.0.0.0/8',
    dev: 'lo',
    protocol: 'kernel',
    scope: 'host',
    prefsrc: '127.0.0.1',
    flags: [],
  },
  {
    type: 'broadcast',
    dst: '198.51.100.255',
    dev: 'eth0',
    protocol: 'kernel',
    scope: 'link',
    flags: [],
  },
  // 192.0.2.0/29 configured address by address: .1-.6 are what a draw can return.
  ...[1, 2, 3, 4, 5, 6].map((i) => ({
    type: 'local',
    dst: `192.0.2.${i}`,
    dev: 'eth0',
    protocol: 'kernel',
    scope: 'host',
    flags: [],
  })),
  // Half of 198.51.100.0/24 bound as AnyIP.
  { type: 'local', dst: '198.51.100.0/25', dev: 'lo', protocol: 'boot', scope: 'host', flags: [] },
];
const v6 = [
  {
    type: 'local',
    dst: '::1',
    dev: 'lo',
    protocol: 'kernel',
    metric: 0,
    flags: [],
    pref: 'medium',
  },
  {
    type: 'local',
    dst: '2001:db8:1::/64',
    dev: 'lo',
    protocol: 'boot',
    metric: 1024,
    flags: [],
    pref: 'medium',
  },
  {
    type: 'multicast',
    dst: 'ff00::/8',
    dev: 'eth0',
    protocol: 'kernel',
    metric: 256,
    flags: [],
    pref: 'medium',
  },
  {
    type: 'anycast',
    dst: '2001:db8:2::',
    dev: 'eth0',
    protocol: 'kernel',
    metric: 0,
    flags: [],
    pref: 'medium',
  },
];

test('prefixes not (wholly) local on the host are reported; AnyIP ranges and per-address routes both count', () => {
  const routes = localRoutesFromIpJson(v4, v6, 'garbage', [
    null,
    { type: 'local', dst: 'nonsense' },
  ]);
  assert.equal(routes.length, 10);
  assert.deepEqual(unusablePrefixes(pools, routes), [
    { region: 'a', family: 4, prefix: '198.51.100.0/24', reason: 'partly-local' },
    { region: 'b', family: 4, prefix: '203.0.113.0/30', reason: 'not-local' },
    { region: 'b', family: 6, prefix: '2001:db8:2::/64', reason: 'not-local' },
  ]);
});

test('a pool wholly covered by local routes reports nothing', () => {
  const routes = localRoutesFromIpJson([
    { type: 'local', dst: '192.0.2.0/24' },
    { type: 'local', dst: '198.51.100.0/25' },
    { type: 'local', dst: '198.51.100.128/25' },
    { type: 'local', dst: '203.0.113.0/24' },
    { type: 'local', dst: '2001:db8::/32' },
  ]);
  assert.deepEqual(unusablePrefixes(pools, routes), []);
});

test('the loose check names config paths and the AnyIP command, and skips what validation reports', () => {
  const routes = localRoutesFromIpJson(v4, v6);
  const problems = hostRouteProblems(
    {
      regions: [
        {
          id: 'a',
          ipv4: ['192.0.2.0/29', '203.0.113.0/30', 'nonsense', 7],
          ipv6: ['2001:db8:1::/64'],
        },
        'not a region',
        // Overlapping and below any floor: still checked against the host.
        {
          id: 'b',
          ipv4: ['198.51.100.0/24', '198.51.100.0/25'],
          ipv6: ['2001:db8:2::/64', '10.0.0.0/8'],
        },
      ],
    },
    routes,
  );
  assert.deepEqual(
    problems.map((p) => `${p.path.join('.')}: ${p.message}`),
    [
      'regions.0.ipv4.1: 203.0.113.0/30 is not local on this host: bind it with `ip route add local 203.0.113.0/30 dev lo` or configure its addresses',
      'regions.2.ipv4.0: 198.51.100.0/24 is only partly local on this host: bind it with `ip route add local 198.51.100.0/24 dev lo` or configure its addresses',
      'regions.2.ipv6.0: 2001:db8:2::/64 is not local on this host: bind it with `ip -6 route add local 2001:db8:2::/64 dev lo` or configure its addresses',
    ],
  );
  for (const input of [
    undefined,
    null,
    3,
    { regions: 'x' },
    { regions: [null, [], { ipv4: 'x' }] },
  ]) {
    assert.deepEqual(hostRouteProblems(input, routes), []);
  }
});
