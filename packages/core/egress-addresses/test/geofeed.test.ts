import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EgressAddressError,
  generateGeofeed,
  parseAddressPools,
  parseGeofeed,
} from '../src/index.ts';
import { sampleConfig } from './fixtures.ts';

function invalidFeed(text: string | Uint8Array): readonly string[] {
  try {
    parseGeofeed(text);
  } catch (err) {
    assert.ok(err instanceof EgressAddressError && err.code === 'invalid-geofeed', String(err));
    return err.problems.length > 0 ? err.problems : [err.reason];
  }
  return assert.fail('expected the feed to be refused');
}

test('the generated feed parses as RFC 8805 and lists exactly the configured prefixes', () => {
  const r = parseAddressPools(sampleConfig());
  assert.ok(r.ok);
  const feed = generateGeofeed(r.pools, { comments: ['contact: noc@relay.example'] });
  assert.equal(
    feed,
    [
      '# RFC 8805 geofeed: ip_prefix,alpha2code,region,city,postal_code',
      '# contact: noc@relay.example',
      '198.51.100.0/27,DE,,,',
      '2001:db8:de::/64,DE,,,',
      '203.0.113.64/27,DE,DE-BY,München,',
      '2001:db8:b0::/63,DE,DE-BY,München,',
      '203.0.113.128/27,DE,DE-BE,Berlin,',
      '2001:db8:be::/64,DE,DE-BE,Berlin,',
      '192.0.2.0/26,FR,FR-IDF,Paris,',
      '',
    ].join('\n'),
  );
  const entries = parseGeofeed(feed);
  const configured = (sampleConfig().regions as { ipv4: string[]; ipv6: string[] }[]).flatMap(
    (x) => [...x.ipv4, ...x.ipv6],
  );
  assert.deepEqual(entries.map((e) => e.prefix).sort(), [...configured].sort());
  assert.ok(entries.every((e) => e.postalCode === undefined)); // deprecated: never published
  assert.deepEqual(entries[2], {
    prefix: '203.0.113.64/27',
    family: 4,
    country: 'DE',
    region: 'DE-BY',
    city: 'München',
    postalCode: undefined,
  });
  // As bytes too (UTF-8).
  assert.equal(parseGeofeed(new TextEncoder().encode(feed)).length, 7);
});

test("RFC 8805's own style of entries, comments, CRLF and RFC 4180 quoting parse", () => {
  const feed = [
    '# IETF106 (Singapore) - November 2019 - Singapore, SG',
    '130.129.0.0/16,SG,SG-01,Singapore,',
    '2001:df8::/32,SG,SG-01,Singapore,',
    '192.0.2.5,US,US-AL,Alabaster,', // a bare address is a host entry
    '198.51.100.0/24,us,us-ca,"San Francisco, ""SF""",94107',
    '2001:db8::/48,,,,',
    '',
  ].join('\r\n');
  const entries = parseGeofeed(feed);
  assert.deepEqual(
    entries.map((e) => [e.prefix, e.country, e.region, e.city, e.postalCode]),
    [
      ['130.129.0.0/16', 'SG', 'SG-01', 'Singapore', undefined],
      ['2001:df8::/32', 'SG', 'SG-01', 'Singapore', undefined],
      ['192.0.2.5/32', 'US', 'US-AL', 'Alabaster', undefined],
      ['198.51.100.0/24', 'US', 'US-CA', 'San Francisco, "SF"', '94107'],
      ['2001:db8::/48', undefined, undefined, undefined, undefined],
    ],
  );
});

test('every broken line is reported by number, none quoted', () => {
  const problems = invalidFeed(
    [
      '192.0.2.0/24,DE,DE-BY,München,',
      '192.0.2.1/24,DE,,,', // host bits
      '192.0.2.0/24,DE,,,', // repeat
      '198.51.100.0/24,DEU,,,',
      '198.51.100.0/25,,DE-BY,,',
      '198.51.100.128/25,FR,DE-BY,,',
      '203.0.113.0/24,DE,,',
      '203.0.113.0/25,DE,,"open,',
      ' 203.0.113.128/25,DE,,,',
      '2001:db8::/64,DE,,x\u0001y,',
      'not-a-prefix,DE,,,',
    ].join('\n'),
  );
  assert.deepEqual(problems, [
    'line 2: ip_prefix is not an IPv4 or IPv6 prefix with host bits zero',
    'line 3: repeats a prefix',
    'line 4: alpha2code is not an ISO 3166-1 alpha-2 code',
    'line 5: region without alpha2code',
    'line 6: region is not in alpha2code',
    'line 7: has 4 fields, not 5',
    'line 8: has unbalanced or stray quotes',
    'line 9: ip_prefix is not an IPv4 or IPv6 prefix with host bits zero',
    'line 10: holds a control character',
    'line 11: ip_prefix is not an IPv4 or IPv6 prefix with host bits zero',
  ]);
  assert.deepEqual(invalidFeed('\ufeff192.0.2.0/24,DE,,,\n'), ['starts with a BOM']);
  assert.deepEqual(invalidFeed(new Uint8Array([0x31, 0xff, 0x0a])), ['not UTF-8']);
});

test('property: arbitrary text either parses or fails with invalid-geofeed, never anything else', () => {
  const line = fc.oneof(
    fc.string(),
    fc
      .tuple(
        fc.constantFrom('192.0.2.0/24', '2001:db8::/32', '10.0.0.1/8', 'x', ''),
        fc.constantFrom('DE', 'us', '', 'XYZ'),
        fc.constantFrom('DE-BY', 'US-CA', '', '"'),
        fc.string(),
        fc.string(),
      )
      .map((f) => f.join(',')),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
      try {
        for (const e of parseGeofeed(lines.join('\n'))) assert.ok(e.family === 4 || e.family === 6);
      } catch (err) {
        assert.ok(err instanceof EgressAddressError && err.code === 'invalid-geofeed', String(err));
      }
    }),
    { numRuns: 1000 },
  );
});

test('every strict prefix of a valid entry line is refused', () => {
  const line = '2001:db8:b0::/63,DE,DE-BY,München,';
  assert.equal(parseGeofeed(line).length, 1);
  for (let i = 1; i < line.length; i++) invalidFeed(line.slice(0, i));
});
