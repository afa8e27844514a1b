/**
 * The client side of geo hints: the two choices users know from privacy relays, turned into
 * the one header field the client sends to the egress with a new inner session.
 *
 *   'general-location'  "keep my general location": a geohash cut to a coarse precision
 *                       (default 4, a cell of about 39 km x 19.5 km; never more than 5)
 *   'country-only'      "use only my country": the ISO 3166-1 code alone, whatever else the
 *                       device knows; the field can hold nothing but two letters
 *   'none'              no hint: the egress uses its default region
 *
 * The hint goes to the egress only (inside the inner session), never to the ingress, which
 * sees the client's address and so must not also learn where it says it is.
 */
import { COUNTRY_CODE } from './config.ts';
import { encodeGeohash } from './geohash.ts';
import { GEOHASH_HINT_HEADER, REGION_HINT_HEADER } from './geo-hint.ts';
import { serializeString } from './structured-string.ts';

export const GENERAL_LOCATION_PRECISION = 4;
/** A client never sends a finer cell than this (about 4.9 km x 4.9 km). */
export const MAX_CLIENT_PRECISION = 5;

export type LocationChoice =
  | { readonly mode: 'general-location'; readonly precision?: number }
  | { readonly mode: 'country-only' }
  | { readonly mode: 'none' };

/** What the device knows; any of it may be missing. */
export interface DeviceLocation {
  readonly latitude?: number;
  readonly longitude?: number;
  /** ISO 3166-1 alpha-2, either case. */
  readonly country?: string;
}

export interface HintField {
  readonly name: string;
  readonly value: string;
}

function countryField(country: string | undefined): HintField | undefined {
  const cc = country?.toUpperCase();
  if (cc === undefined || !COUNTRY_CODE.test(cc)) return undefined;
  return Object.freeze({ name: REGION_HINT_HEADER, value: serializeString(cc) });
}

/**
 * The header field to send, or undefined for none. With 'general-location' but no usable
 * coordinates it falls back to the country, which says less, never to anything finer.
 */
export function clientGeoHint(
  choice: LocationChoice,
  where: DeviceLocation,
): HintField | undefined {
  switch (choice.mode) {
    case 'none':
      return undefined;
    case 'country-only':
      return countryField(where.country);
    case 'general-location': {
      const precision = choice.precision ?? GENERAL_LOCATION_PRECISION;
      if (!Number.isInteger(precision) || precision < 1 || precision > MAX_CLIENT_PRECISION) {
        throw new RangeError(`precision must be 1..${MAX_CLIENT_PRECISION}`);
      }
      const { latitude, longitude } = where;
      if (
        typeof latitude !== 'number' ||
        typeof longitude !== 'number' ||
        !(Math.abs(latitude) <= 90) ||
        !(Math.abs(longitude) <= 180)
      ) {
        return countryField(where.country);
      }
      return Object.freeze({
        name: GEOHASH_HINT_HEADER,
        value: serializeString(encodeGeohash(latitude, longitude, precision)),
      });
    }
  }
}
