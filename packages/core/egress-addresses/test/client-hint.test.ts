import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clientGeoHint, parseGeohashHint, parseRegionHint, readHint } from '../src/index.ts';

const munich = { latitude: 48.137154, longitude: 11.576124, country: 'de' };

test('"keep my general location" sends a geohash cut to 4 characters by default', () => {
  assert.deepEqual(clientGeoHint({ mode: 'general-location' }, munich), {
    name: 'sec-ch-geohash',
    value: '"u281"',
  });
  assert.deepEqual(clientGeoHint({ mode: 'general-location', precision: 2 }, munich), {
    name: 'sec-ch-geohash',
    value: '"u2"',
  });
  assert.throws(
    () => clientGeoHint({ mode: 'general-location', precision: 6 }, munich),
    RangeError,
  );
  // Without coordinates it says less (the country), never more.
  assert.deepEqual(clientGeoHint({ mode: 'general-location' }, { country: 'DE' }), {
    name: 'sec-ch-ip-geo',
    value: '"DE"',
  });
});

test('"use only my country" sends the country code and nothing else', () => {
  assert.deepEqual(clientGeoHint({ mode: 'country-only' }, munich), {
    name: 'sec-ch-ip-geo',
    value: '"DE"',
  });
  assert.equal(clientGeoHint({ mode: 'country-only' }, { latitude: 1, longitude: 2 }), undefined);
  assert.equal(clientGeoHint({ mode: 'none' }, munich), undefined);
});

test('property: country-only never sends more than two letters, whatever the device knows', () => {
  fc.assert(
    fc.property(
      fc.record(
        {
          latitude: fc.double({ min: -90, max: 90, noNaN: true }),
          longitude: fc.double({ min: -180, max: 180, noNaN: true }),
          country: fc.oneof(fc.constantFrom('DE', 'fr', 'US', 'gb'), fc.string()),
          subdivision: fc.string(),
          city: fc.string(),
        },
        { requiredKeys: [] },
      ),
      (where) => {
        const field = clientGeoHint({ mode: 'country-only' }, where);
        if (field === undefined) return;
        assert.equal(field.name, 'sec-ch-ip-geo');
        assert.match(field.value, /^"[A-Z]{2}"$/);
        assert.equal(field.value, `"${String(where.country).toUpperCase()}"`);
        const hint = parseRegionHint(field.value);
        assert.deepEqual(Object.keys(hint).sort(), ['country', 'kind']);
      },
    ),
  );
});

test('property: general-location never sends a cell finer than asked, and the egress reads it back', () => {
  fc.assert(
    fc.property(
      fc.double({ min: -90, max: 90, noNaN: true }),
      fc.double({ min: -180, max: 180, noNaN: true }),
      fc.integer({ min: 1, max: 5 }),
      (latitude, longitude, precision) => {
        const field = clientGeoHint(
          { mode: 'general-location', precision },
          { latitude, longitude },
        );
        assert.ok(field !== undefined);
        const hint = parseGeohashHint(field.value, 12);
        assert.ok(hint.kind === 'geohash' && hint.geohash.length === precision);
        assert.deepEqual(readHint({ [field.name]: field.value }, 12).hint, hint);
      },
    ),
  );
});
