/**
 * Geohash, the cell code the Sec-CH-Geohash hint carries (draft-pauly-httpbis-geohash-hint
 * §2 points to the algorithm). Each character is 5 bits, interleaved from longitude then
 * latitude, each bit halving the cell; cutting characters off the end gives the cell that
 * contains the longer one, which is what makes a hint coarser without changing its meaning.
 *
 *   alphabet:  0123456789bcdefghjkmnpqrstuvwxyz   (no a, i, l, o)
 *   length 3:  ~156 km x 156 km    length 4: ~39 km x 19.5 km    length 5: ~4.9 km x 4.9 km
 */

export const GEOHASH_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';
/** The draft's limit for the header value. */
export const MAX_GEOHASH_LENGTH = 12;
const GEOHASH_RE = /^[0-9b-hjkmnp-z]{1,12}$/;

export interface GeohashCell {
  readonly south: number;
  readonly north: number;
  readonly west: number;
  readonly east: number;
  /** The cell centre, the point a cell stands for when distances are compared. */
  readonly latitude: number;
  readonly longitude: number;
}

/** Lower-case alphabet only: one spelling per cell, so hints compare as strings. */
export function isGeohash(text: string): boolean {
  return GEOHASH_RE.test(text);
}

export function encodeGeohash(latitude: number, longitude: number, length: number): string {
  if (!Number.isFinite(latitude) || latitude < -90 || latitude > 90) {
    throw new RangeError('latitude must be within -90..90');
  }
  if (!Number.isFinite(longitude) || longitude < -180 || longitude > 180) {
    throw new RangeError('longitude must be within -180..180');
  }
  if (!Number.isInteger(length) || length < 1 || length > MAX_GEOHASH_LENGTH) {
    throw new RangeError(`geohash length must be 1..${MAX_GEOHASH_LENGTH}`);
  }
  let [south, north, west, east] = [-90, 90, -180, 180];
  let out = '';
  let bit = 0;
  let value = 0;
  let lonTurn = true;
  while (out.length < length) {
    if (lonTurn) {
      const mid = (west + east) / 2;
      value = value * 2 + (longitude >= mid ? 1 : 0);
      if (longitude >= mid) west = mid;
      else east = mid;
    } else {
      const mid = (south + north) / 2;
      value = value * 2 + (latitude >= mid ? 1 : 0);
      if (latitude >= mid) south = mid;
      else north = mid;
    }
    lonTurn = !lonTurn;
    if (++bit === 5) {
      out += GEOHASH_ALPHABET[value];
      bit = 0;
      value = 0;
    }
  }
  return out;
}

export function decodeGeohash(geohash: string): GeohashCell {
  if (!isGeohash(geohash)) throw new RangeError('not a geohash');
  let [south, north, west, east] = [-90, 90, -180, 180];
  let lonTurn = true;
  for (const ch of geohash) {
    const value = GEOHASH_ALPHABET.indexOf(ch);
    for (let i = 4; i >= 0; i--) {
      const on = ((value >> i) & 1) === 1;
      if (lonTurn) {
        const mid = (west + east) / 2;
        if (on) west = mid;
        else east = mid;
      } else {
        const mid = (south + north) / 2;
        if (on) south = mid;
        else north = mid;
      }
      lonTurn = !lonTurn;
    }
  }
  return {
    south,
    north,
    west,
    east,
    latitude: (south + north) / 2,
    longitude: (west + east) / 2,
  };
}

/** The containing cell of at most `length` characters: what a hint is cut to. */
export function cutGeohash(geohash: string, length: number): string {
  if (!isGeohash(geohash)) throw new RangeError('not a geohash');
  if (!Number.isInteger(length) || length < 1) throw new RangeError('length must be >= 1');
  return geohash.slice(0, length);
}

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance (haversine) between two points, in kilometres. */
export function distanceKm(
  a: { latitude: number; longitude: number },
  b: { latitude: number; longitude: number },
): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
