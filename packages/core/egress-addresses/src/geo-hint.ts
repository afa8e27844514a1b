/**
 * The egress side of geo hints: read the hint a client sent with its inner session, cut it
 * to the configured precision, and choose the region whose pool the session draws from.
 *
 *   Sec-CH-Geohash: "u0yj"        a geohash cell      (draft-pauly-httpbis-geohash-hint §2)
 *   Sec-CH-IP-Geo:  "DE"          a region code: ISO 3166-1 alpha-2, or "DE,DE-BY" with an
 *                                 ISO 3166-2 subdivision (the RFC 8805 §2.1.1 fields that
 *                                 draft-pauly-httpbis-geoip-hint §2 carries, city left out)
 *
 * A hint is a wish, never an identity or an access decision (the draft's §4): one that does
 * not parse is ignored, the session gets the default region, and the shell may say so with
 * `Proxy-Status: <name>; details="invalid geohash"` (the draft's §3.1).
 */
import { MAX_HINT_PRECISION, COUNTRY_CODE, SUBDIVISION_CODE } from './config.ts';
import { EgressAddressError } from './errors.ts';
import { cutGeohash, decodeGeohash, distanceKm, isGeohash } from './geohash.ts';
import type { AddressPools, RegionPool } from './pools.ts';
import { parseStringItem } from './structured-string.ts';

export const GEOHASH_HINT_HEADER = 'sec-ch-geohash';
export const REGION_HINT_HEADER = 'sec-ch-ip-geo';
/** The Proxy-Status details the geohash draft gives for a hint the proxy could not honour. */
export const INVALID_HINT_DETAILS = 'invalid geohash';
/** Longer field values are refused before any parsing; real ones are under 30 bytes. */
export const MAX_HINT_FIELD_BYTES = 256;

export type GeoHint =
  | { readonly kind: 'geohash'; readonly geohash: string }
  | { readonly kind: 'region'; readonly country: string; readonly subdivision?: string };

function invalid(reason: string): EgressAddressError {
  return new EgressAddressError('invalid-hint', reason);
}

function fieldString(value: unknown): string {
  if (typeof value !== 'string') throw invalid('field is not a single string');
  if (value.length > MAX_HINT_FIELD_BYTES) throw invalid('field is too long');
  const s = parseStringItem(value);
  if (s === undefined) throw invalid('field is not a Structured Field String');
  return s;
}

/**
 * Parses a Sec-CH-Geohash value and cuts it to `precision` characters (the egress keeps no
 * more than it uses). Throws EgressAddressError('invalid-hint') and nothing else.
 */
export function parseGeohashHint(value: unknown, precision = MAX_HINT_PRECISION): GeoHint {
  if (!Number.isInteger(precision) || precision < 1 || precision > 12) {
    throw new RangeError('precision must be 1..12');
  }
  const s = fieldString(value);
  if (!isGeohash(s)) throw invalid('not a geohash of 1-12 lower-case characters');
  return Object.freeze({ kind: 'geohash', geohash: cutGeohash(s, precision) });
}

/** Parses a Sec-CH-IP-Geo value holding "CC" or "CC,CC-SUB". */
export function parseRegionHint(value: unknown): GeoHint {
  const parts = fieldString(value).split(',');
  const [country, subdivision] = parts;
  if (parts.length > 2 || country === undefined || !COUNTRY_CODE.test(country)) {
    throw invalid('not an ISO 3166-1 alpha-2 code, optionally with its ISO 3166-2 subdivision');
  }
  if (subdivision === undefined) return Object.freeze({ kind: 'region', country });
  if (!SUBDIVISION_CODE.test(subdivision) || !subdivision.startsWith(`${country}-`)) {
    throw invalid('subdivision is not an ISO 3166-2 code of the country');
  }
  return Object.freeze({ kind: 'region', country, subdivision });
}

/** Header values as Node gives them: lower-case names, a string or several. */
export type HintHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface HintReading {
  readonly hint: GeoHint | undefined;
  /** A hint field was present but unusable: the shell may add INVALID_HINT_DETAILS. */
  readonly invalid: boolean;
}

/**
 * Reads whichever hint field is present. A geohash wins over a region code when both are
 * (the client sent two; the finer one is what it asked for). Never throws on the values.
 */
export function readHint(headers: HintHeaders, precision: number): HintReading {
  const geohash = headers[GEOHASH_HINT_HEADER];
  const region = headers[REGION_HINT_HEADER];
  let invalidSeen = false;
  for (const [value, parse] of [
    [geohash, (v: unknown) => parseGeohashHint(v, precision)],
    [region, parseRegionHint],
  ] as const) {
    if (value === undefined) continue;
    try {
      return { hint: parse(value), invalid: invalidSeen };
    } catch (err) {
      if (!(err instanceof EgressAddressError)) throw err;
      invalidSeen = true;
    }
  }
  return { hint: undefined, invalid: invalidSeen };
}

export type MatchedBy = 'geohash' | 'subdivision' | 'country' | 'default';

export interface RegionMatch {
  readonly region: RegionPool;
  readonly matchedBy: MatchedBy;
}

/**
 * The region a hint maps to:
 *   geohash     the region whose cell centre is nearest the (cut) hint cell's centre, within
 *               maxHintDistanceKm when set; ties go to the earlier region in the config
 *   region code a region with that subdivision; else the country's region (below)
 *   country     countryDefaults[cc]; else the first region of cc with no subdivision or city
 *               (so a country-only user gets an address that says only the country); else
 *               the first region of cc
 *   otherwise   the default region
 */
export function matchRegion(pools: AddressPools, hint: GeoHint | undefined): RegionMatch {
  const fallback: RegionMatch = { region: pools.defaultRegion, matchedBy: 'default' };
  if (hint === undefined) return fallback;
  if (hint.kind === 'geohash') {
    const cell = decodeGeohash(cutGeohash(hint.geohash, pools.hintPrecision));
    let best: RegionPool | undefined;
    let bestKm = Number.POSITIVE_INFINITY;
    for (const region of pools.regions) {
      if (region.centre === undefined) continue;
      const km = distanceKm(cell, region.centre);
      if (km < bestKm) {
        best = region;
        bestKm = km;
      }
    }
    if (best === undefined) return fallback;
    if (pools.maxHintDistanceKm !== undefined && bestKm > pools.maxHintDistanceKm) return fallback;
    return { region: best, matchedBy: 'geohash' };
  }
  if (hint.subdivision !== undefined) {
    const exact = pools.regions.find((r) => r.subdivision === hint.subdivision);
    if (exact !== undefined) return { region: exact, matchedBy: 'subdivision' };
  }
  const byCountry =
    pools.countryDefaults.get(hint.country) ??
    pools.regions.find(
      (r) => r.country === hint.country && r.subdivision === undefined && r.city === undefined,
    ) ??
    pools.regions.find((r) => r.country === hint.country);
  return byCountry === undefined ? fallback : { region: byCountry, matchedBy: 'country' };
}
