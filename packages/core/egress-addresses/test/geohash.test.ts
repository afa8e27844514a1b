import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cutGeohash, decodeGeohash, distanceKm, encodeGeohash, isGeohash } from '../src/index.ts';

test("the draft's example: 57.64911,10.40744 is u4pruydqqvj", () => {
  // draft-pauly-httpbis-geohash-hint §2.
  assert.equal(encodeGeohash(57.64911, 10.40744, 11), 'u4pruydqqvj');
  const cell = decodeGeohash('u4pruydqqvj');
  assert.ok(cell.south <= 57.64911 && 57.64911 <= cell.north);
  assert.ok(cell.west <= 10.40744 && 10.40744 <= cell.east);
});

test('well-known cells: ezs42 (42.605, -5.603) and the corners of the world', () => {
  const c = decodeGeohash('ezs42');
  assert.ok(Math.abs(c.latitude - 42.605) < 0.01 && Math.abs(c.longitude - -5.603) < 0.01);
  assert.equal(encodeGeohash(-90, -180, 3), '000');
  assert.equal(encodeGeohash(90, 180, 3), 'zzz');
  assert.deepEqual(
    { ...decodeGeohash('s') },
    { south: 0, north: 45, west: 0, east: 45, latitude: 22.5, longitude: 22.5 },
  );
});

test('property: a cut geohash is the cell that contains the point and the longer cell', () => {
  fc.assert(
    fc.property(
      fc.double({ min: -90, max: 90, noNaN: true }),
      fc.double({ min: -180, max: 180, noNaN: true }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 12 }),
      (lat, lon, long, short) => {
        const full = encodeGeohash(lat, lon, long);
        const cut = cutGeohash(full, short);
        assert.equal(cut, encodeGeohash(lat, lon, Math.min(short, long)));
        const outer = decodeGeohash(cut);
        const inner = decodeGeohash(full);
        assert.ok(outer.south <= inner.south && inner.north <= outer.north);
        assert.ok(outer.west <= inner.west && inner.east <= outer.east);
        assert.ok(
          outer.south <= lat && lat <= outer.north && outer.west <= lon && lon <= outer.east,
        );
      },
    ),
  );
});

test('property: decode then encode of any geohash gives it back', () => {
  const alphabet = '0123456789bcdefghjkmnpqrstuvwxyz'.split('');
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 12 }),
      (chars) => {
        const g = chars.join('');
        const c = decodeGeohash(g);
        assert.equal(encodeGeohash(c.latitude, c.longitude, g.length), g);
      },
    ),
  );
});

test('only the lower-case alphabet, 1-12 characters, is a geohash', () => {
  for (const bad of ['', 'a', 'i', 'l', 'o', 'U4PR', 'u4pruydqqvjzz', 'u4 p', 'ü']) {
    assert.equal(isGeohash(bad), false, bad);
  }
  assert.throws(() => encodeGeohash(91, 0, 4), RangeError);
  assert.throws(() => encodeGeohash(0, Number.NaN, 4), RangeError);
  assert.throws(() => encodeGeohash(0, 0, 13), RangeError);
});

test('distances: Berlin to Munich is about 504 km', () => {
  const km = distanceKm(
    { latitude: 52.52, longitude: 13.405 },
    { latitude: 48.137, longitude: 11.575 },
  );
  assert.ok(Math.abs(km - 504) < 5, String(km));
});
