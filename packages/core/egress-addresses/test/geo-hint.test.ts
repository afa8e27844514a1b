import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EgressAddressError,
  encodeGeohash,
  matchRegion,
  parseAddressPools,
  parseGeohashHint,
  parseRegionHint,
  parseStringItem,
  readHint,
  serializeString,
  type AddressPools,
} from '../src/index.ts';
import { sampleConfig } from './fixtures.ts';

function pools(overrides: Record<string, unknown> = {}): AddressPools {
  const r = parseAddressPools({ ...sampleConfig(), ...overrides });
  assert.ok(r.ok, r.ok ? '' : r.problems.join('\n'));
  return r.pools;
}

function invalidHint(fn: () => unknown): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof EgressAddressError && err.code === 'invalid-hint',
  );
}

test('Sec-CH-Geohash: an sf-string, cut to the precision asked for', () => {
  assert.deepEqual(parseGeohashHint('"u4pruydqqvj"', 4), { kind: 'geohash', geohash: 'u4pr' });
  assert.deepEqual(parseGeohashHint('"u4p"', 4), { kind: 'geohash', geohash: 'u4p' });
  // Leading/trailing SP and parameters are allowed by RFC 8941 and ignored.
  assert.deepEqual(
    parseGeohashHint('  "u4pru";x=1;y;z="a\\"b";t=tok/en;b=:AA==:;f=?1;d=-1.5 ', 3),
    {
      kind: 'geohash',
      geohash: 'u4p',
    },
  );
});

test('Sec-CH-Geohash: anything else is invalid-hint, and every strict prefix of a good field is too', () => {
  for (const bad of [
    'u4pru', // a token, not a string
    '"U4PRU"',
    '"u4pra"', // 'a' is not in the alphabet
    '""',
    '"u4pruydqqvjzz"', // 13 characters
    '"u4pru", "u4"', // a list
    '"u4pru" x',
    '"u4pru";X=1', // keys are lower case
    '"u4pru";x=',
    '"u4p\\ru"', // only \" and \\ escape
    '"u4pru"\t',
    'ü',
    `"${'u'.repeat(300)}"`,
  ]) {
    invalidHint(() => parseGeohashHint(bad));
  }
  invalidHint(() => parseGeohashHint(['"u4"', '"u4"']));
  invalidHint(() => parseGeohashHint(undefined));
  const good = '"u4pruydqqvj";feed="https://relay.example/geofeed.csv"';
  for (let i = 0; i < good.length; i++) {
    const prefix = good.slice(0, i);
    // Complete fields on their own: the bare string, or it with a boolean parameter `;f`...
    if (/^"u4pruydqqvj"(?:;[a-z]+)?$/.test(prefix)) {
      assert.equal(parseGeohashHint(prefix).kind, 'geohash');
      continue;
    }
    invalidHint(() => parseGeohashHint(prefix));
  }
});

test('Sec-CH-IP-Geo region codes: "CC" or "CC,CC-SUB", nothing finer', () => {
  assert.deepEqual(parseRegionHint('"DE"'), { kind: 'region', country: 'DE' });
  assert.deepEqual(parseRegionHint('"DE,DE-BY"'), {
    kind: 'region',
    country: 'DE',
    subdivision: 'DE-BY',
  });
  for (const bad of [
    '"de"',
    '"DEU"',
    '"DE,FR-IDF"',
    '"DE,DE-BY,München"',
    '"DE,"',
    'DE',
    '"DE,DE-BAYE"',
  ]) {
    invalidHint(() => parseRegionHint(bad));
  }
});

test('property: hostile header values only ever raise invalid-hint', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (value) => {
      for (const parse of [parseGeohashHint, parseRegionHint]) {
        try {
          parse(value as string);
        } catch (err) {
          assert.ok(err instanceof EgressAddressError && err.code === 'invalid-hint', String(err));
        }
      }
      const reading = readHint(
        { 'sec-ch-geohash': value as string, 'sec-ch-ip-geo': value as string },
        4,
      );
      assert.equal(typeof reading.invalid, 'boolean');
    }),
    { numRuns: 2000 },
  );
});

test('property: serialize then parse an sf-string is the identity', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }),
      (s) => {
        assert.equal(parseStringItem(serializeString(s)), s);
      },
    ),
  );
});

test('readHint: a geohash wins over a region code; an unusable field is flagged, never thrown', () => {
  assert.deepEqual(readHint({ 'sec-ch-geohash': '"u281zz"', 'sec-ch-ip-geo': '"FR"' }, 4), {
    hint: { kind: 'geohash', geohash: 'u281' },
    invalid: false,
  });
  assert.deepEqual(readHint({ 'sec-ch-geohash': 'junk', 'sec-ch-ip-geo': '"FR"' }, 4), {
    hint: { kind: 'region', country: 'FR' },
    invalid: true,
  });
  assert.deepEqual(readHint({}, 4), { hint: undefined, invalid: false });
  assert.deepEqual(readHint({ 'sec-ch-ip-geo': '"xx"' }, 4), { hint: undefined, invalid: true });
});

test('matching: nearest region by cell centre, within the configured distance', () => {
  const p = pools();
  const near = (lat: number, lon: number) =>
    matchRegion(p, { kind: 'geohash', geohash: encodeGeohash(lat, lon, 12) });
  assert.deepEqual(
    [near(48.3, 11.4), near(52.4, 13.1), near(48.85, 2.35), near(50.1, 8.7)].map((m) => [
      m.region.id,
      m.matchedBy,
    ]),
    [
      ['de-munich', 'geohash'],
      ['de-berlin', 'geohash'],
      ['fr-paris', 'geohash'],
      ['de-munich', 'geohash'], // Frankfurt: Munich (~300 km) is nearer than Berlin (~420 km)
    ],
  );
  // New York is far from every region: with a limit it gets the default, without it the nearest.
  assert.equal(near(40.7, -74).region.id, 'fr-paris');
  const limited = pools({ maxHintDistanceKm: 1000 });
  assert.deepEqual(
    matchRegion(limited, { kind: 'geohash', geohash: encodeGeohash(40.7, -74, 5) }).matchedBy,
    'default',
  );
});

test('matching cuts the hint to hintPrecision first: the egress never uses more', () => {
  const coarse = pools({ hintPrecision: 1 });
  // At one character, every European hint is the cell 'u', whose centre (67.5, 22.5) is
  // nearest Berlin; at full precision the same hint is Munich.
  const hint = { kind: 'geohash', geohash: encodeGeohash(48.14, 11.58, 8) } as const;
  assert.equal(matchRegion(pools(), hint).region.id, 'de-munich');
  assert.equal(matchRegion(coarse, hint).region.id, 'de-berlin');
});

test('matching region codes: subdivision, then countryDefaults, then a country-level region, then default', () => {
  const p = pools();
  const m = (country: string, subdivision?: string) => {
    const r = matchRegion(
      p,
      subdivision === undefined
        ? { kind: 'region', country }
        : { kind: 'region', country, subdivision },
    );
    return [r.region.id, r.matchedBy];
  };
  assert.deepEqual(m('DE', 'DE-BE'), ['de-berlin', 'subdivision']);
  assert.deepEqual(m('DE', 'DE-HH'), ['de', 'country']); // no Hamburg pool: the country-level one
  assert.deepEqual(m('DE'), ['de', 'country']);
  assert.deepEqual(m('FR'), ['fr-paris', 'country']); // countryDefaults
  assert.deepEqual(m('JP'), ['de', 'default']);
  assert.deepEqual(
    [matchRegion(p, undefined).region.id, matchRegion(p, undefined).matchedBy],
    ['de', 'default'],
  );
});

test('every strict prefix of a region-code field is refused', () => {
  const field = '"DE,DE-BY"';
  assert.deepEqual(parseRegionHint(field), { kind: 'region', country: 'DE', subdivision: 'DE-BY' });
  for (let i = 0; i < field.length; i++) invalidHint(() => parseRegionHint(field.slice(0, i)));
});
