import { test } from 'node:test';
import assert from 'node:assert/strict';
import { egressAddressesSchema, parseAddressPools, compilePools } from '../src/index.ts';
import { sampleConfig } from './fixtures.ts';

function problemsOf(input: unknown): string[] {
  const r = parseAddressPools(input);
  assert.equal(r.ok, false, 'expected the config to be refused');
  return r.ok ? [] : r.problems;
}

test('the sample config compiles, with usable counts and draw entropy per family', () => {
  const r = parseAddressPools(sampleConfig());
  assert.ok(r.ok, r.ok ? '' : r.problems.join('\n'));
  const de = r.pools.byId.get('de');
  assert.ok(de?.ipv4 && de.ipv6);
  assert.equal(de.ipv4.usable, 30n); // a /27 less network and broadcast
  assert.equal(de.ipv4.entropyBits, Math.log2(30));
  // 2^64 IIDs less the reserved ones (1 + 2^24 + 128), for one /64.
  assert.equal(de.ipv6.usable, (1n << 64n) - 1n - (1n << 24n) - 128n);
  assert.ok(de.ipv6.entropyBits > 63.999 && de.ipv6.entropyBits < 64);
  const munich = r.pools.byId.get('de-munich');
  assert.equal(munich?.ipv6?.usable, 2n * de.ipv6.usable); // a /63 is two /64s
  assert.equal(r.pools.byId.get('fr-paris')?.ipv6, undefined);
  assert.equal(r.pools.defaultRegion.id, 'de');
  assert.equal(r.pools.countryDefaults.get('FR')?.id, 'fr-paris');
  assert.ok(Object.isFrozen(r.pools) && Object.isFrozen(r.pools.regions));
});

test('a bad config lists every problem at once, each with its path', () => {
  const config = sampleConfig() as { regions: Record<string, unknown>[] } & Record<string, unknown>;
  config.defaultRegion = 'nowhere';
  config.countryDefaults = { FR: 'atlantis', IT: 'de' };
  config.entropyFloorBits = 5;
  config.regions[0] = {
    id: 'de',
    country: 'de', // lower case: a field problem, reported along with the cross-checks
    ipv4: ['198.51.100.0/27', '198.51.100.16/28', '10.0.0.1/8', 'not-a-prefix', '2001:db8::/64'],
    ipv6: ['2001:db8:de::/64', '2001:db8:de::/80'],
  };
  config.regions[1] = {
    ...config.regions[1],
    subdivision: 'FR-BY',
    ipv4: ['198.51.100.0/30', '203.0.113.64/27'],
  };
  config.regions.push({ id: 'tiny', country: 'NL', ipv4: ['192.0.2.128/30'] });
  config.regions.push({ id: 'empty', country: 'NL' });
  config.regions.push({ id: 'tiny', country: 'NL', ipv6: ['2001:db8:de::/48'], extra: 1 });

  const problems = problemsOf(config);
  const expected = [
    'regions.0.country: must be an ISO 3166-1 alpha-2 code (e.g. DE)',
    'regions.6: Unrecognized key: "extra"',
    'regions.0.ipv4.2: has host bits set (did you mean 10.0.0.0/8?)',
    'regions.0.ipv4.3: must be address/length (CIDR)',
    'regions.0.ipv4.4: is not an IPv4 prefix',
    'regions.0.ipv6.1: must be /64 or shorter, so each draw has a whole interface identifier',
    'regions.1.subdivision: must be a subdivision of DE',
    'regions.2.ipv4: draw entropy 4.91 bits is below the floor of 5 bits (30 usable addresses)',
    'regions.4.ipv4: draw entropy 1.00 bits is below the floor of 5 bits (2 usable addresses)',
    'regions.5: has no IPv4 or IPv6 prefix',
    'regions.6.id: repeats a region id',
    // within a region and across regions, IPv4 and IPv6
    'regions.0.ipv4.1: overlaps 198.51.100.0/27 at regions.0.ipv4.0',
    'regions.1.ipv4.0: overlaps 198.51.100.0/27 at regions.0.ipv4.0',
    'regions.0.ipv6.0: overlaps 2001:db8:de::/48 at regions.6.ipv6.0',
    'defaultRegion: names no configured region',
    'countryDefaults.FR: names no configured region',
    'countryDefaults.IT: names a region in de, not IT',
  ];
  for (const line of expected)
    assert.ok(problems.includes(line), `missing: ${line}\n got:\n${problems.join('\n')}`);
  assert.equal(problems.length, expected.length, problems.join('\n'));
});

test('the entropy floor is per region and family, and inclusive', () => {
  const config = {
    defaultRegion: 'a',
    entropyFloorBits: 8,
    regions: [{ id: 'a', country: 'NL', ipv4: ['192.0.2.0/24'] }],
  };
  // A /24 has 254 usable addresses: 7.99 bits, just under 8.
  assert.deepEqual(problemsOf(config), [
    'regions.0.ipv4: draw entropy 7.99 bits is below the floor of 8 bits (254 usable addresses)',
  ]);
  assert.ok(parseAddressPools({ ...config, entropyFloorBits: Math.log2(254) }).ok);
  assert.ok(
    parseAddressPools({ ...config, regions: [{ id: 'a', country: 'NL', ipv4: ['192.0.2.0/23'] }] })
      .ok,
  );
});

test('/31 and /32 pools are used whole (RFC 3021); shorter ones lose network and broadcast', () => {
  const pools = (prefix: string) => {
    const r = parseAddressPools({
      defaultRegion: 'a',
      entropyFloorBits: 0,
      regions: [{ id: 'a', country: 'NL', ipv4: [prefix] }],
    });
    assert.ok(r.ok);
    return r.pools.regions[0]?.ipv4?.usable;
  };
  assert.equal(pools('192.0.2.1/32'), 1n);
  assert.equal(pools('192.0.2.2/31'), 2n);
  assert.equal(pools('192.0.2.4/30'), 2n);
  assert.equal(pools('192.0.2.0/24'), 254n);
});

test('the schema is strict and compilePools refuses what it did not validate', () => {
  assert.equal(
    egressAddressesSchema.safeParse({ ...sampleConfig(), surprise: true }).success,
    false,
  );
  assert.throws(() => compilePools({ regions: [] } as never), TypeError);
  const ok = egressAddressesSchema.parse(sampleConfig());
  assert.equal(compilePools(ok).regions.length, 4);
});
