/**
 * The egress address pools as one strict config schema, meant to sit in the egress's config
 * (apps/egress/src/config.ts) as `addresses: egressAddressesSchema.optional()`. zod reports
 * field problems, and one cross-check pass adds every pool problem at once, each with its
 * path: malformed prefixes, prefixes of the wrong family, overlaps within and across regions,
 * pools below the entropy floor, and references to regions that do not exist.
 */
import { z } from 'zod';
import { isGeohash } from './geohash.ts';
import {
  formatPrefix,
  log2BigInt,
  parsePrefix,
  prefixEnd,
  type IpFamily,
  type Prefix,
} from './prefix.ts';
import { MAX_IPV6_POOL_PREFIX, usableCount } from './reserved.ts';

/** A letter first, like a directory entry's region, so an id never spells an address. */
export const REGION_ID = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
/** ISO 3166-1 alpha-2, upper case (RFC 8805 §2.1.1.2 writes it so). */
export const COUNTRY_CODE = /^[A-Z]{2}$/;
/** ISO 3166-2: the country code, a hyphen, then 1-3 letters or digits. */
export const SUBDIVISION_CODE = /^[A-Z]{2}-[A-Z0-9]{1,3}$/;
/**
 * A city name as the geofeed will print it: no comma, quote or control character (so no CSV
 * quoting is ever needed) and no surrounding spaces. Any other UTF-8 is fine ("München").
 */
const CITY_NAME = /^[^\s,"\p{Cc}](?:[^,"\p{Cc}]{0,98}[^\s,"\p{Cc}])?$/u;

export const MAX_REGIONS = 256;
export const MAX_PREFIXES_PER_REGION = 1024;
/** Geohash hints are cut to at most this many characters at the egress (~4.9 km cells). */
export const MAX_HINT_PRECISION = 5;

const regionId = z.string().regex(REGION_ID, 'must be a letter then up to 63 of [A-Za-z0-9-]');
const countryCode = z.string().regex(COUNTRY_CODE, 'must be an ISO 3166-1 alpha-2 code (e.g. DE)');

const regionSchema = z.strictObject({
  id: regionId.describe('Region id, named by hints, countryDefaults and defaultRegion.'),
  country: countryCode.describe('Country the addresses geolocate to (ISO 3166-1 alpha-2).'),
  subdivision: z
    .string()
    .regex(SUBDIVISION_CODE, 'must be an ISO 3166-2 code (e.g. DE-BY)')
    .optional()
    .describe('ISO 3166-2 subdivision; leave it out for a country-level pool.'),
  city: z
    .string()
    .regex(CITY_NAME, 'must be 1-100 characters without commas, quotes or control characters')
    .optional()
    .describe('City name as published in the geofeed.'),
  geohash: z
    .string()
    .refine(isGeohash, 'must be a lower-case geohash of 1-12 characters')
    .optional()
    .describe('Cell whose centre stands for this region when geohash hints are matched.'),
  ipv4: z
    .array(z.string())
    .max(MAX_PREFIXES_PER_REGION)
    .default([])
    .describe('IPv4 prefixes (CIDR) sessions of this region draw their source from.'),
  ipv6: z
    .array(z.string())
    .max(MAX_PREFIXES_PER_REGION)
    .default([])
    .describe(`IPv6 prefixes, /${MAX_IPV6_POOL_PREFIX} or shorter.`),
});

export const egressAddressesFields = {
  regions: z.array(regionSchema).min(1).max(MAX_REGIONS).describe('Egress address regions.'),
  defaultRegion: regionId.describe(
    'Region for sessions without a usable hint, and for every Oblivious HTTP gateway connection.',
  ),
  countryDefaults: z
    .record(z.string().regex(COUNTRY_CODE, 'must be an ISO 3166-1 alpha-2 code'), regionId)
    .default({})
    .describe('Region for a country-only hint, per country (else a country-level region).'),
  entropyFloorBits: z
    .number()
    .min(0)
    .max(128)
    .default(8)
    .describe('Least entropy (bits) of one draw, per region and family; below it is an error.'),
  hintPrecision: z
    .int()
    .min(1)
    .max(MAX_HINT_PRECISION)
    .default(4)
    .describe('Geohash hints are cut to this many characters before matching.'),
  maxHintDistanceKm: z
    .number()
    .positive()
    .optional()
    .describe('A geohash hint farther than this from every region gets the default region.'),
};

/**
 * The cross-checks read the config loosely: they also run when some fields already failed
 * (a lower-case country must not hide an overlap), so any field may still be malformed here.
 */
interface LooseRegion {
  readonly id?: unknown;
  readonly country?: unknown;
  readonly subdivision?: unknown;
  readonly ipv4?: unknown;
  readonly ipv6?: unknown;
}
interface LooseConfig {
  readonly regions?: unknown;
  readonly defaultRegion?: unknown;
  readonly countryDefaults?: unknown;
  readonly entropyFloorBits?: unknown;
}

type Path = (string | number)[];
export interface PoolProblem {
  readonly path: Path;
  readonly message: string;
}

interface ParsedRef {
  readonly prefix: Prefix;
  readonly path: Path;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Every cross-field problem, with its path; prefixes that do not parse are reported once. */
export function poolProblems(input: LooseConfig): PoolProblem[] {
  const problems: PoolProblem[] = [];
  const ids = new Set<string>();
  const regionsById = new Map<string, LooseRegion>();
  const parsed: ParsedRef[] = [];
  const floor = typeof input.entropyFloorBits === 'number' ? input.entropyFloorBits : undefined;

  listOf(input.regions).forEach((raw, r) => {
    if (!isRecord(raw)) return;
    const region = raw as LooseRegion;
    if (typeof region.id === 'string') {
      if (ids.has(region.id))
        problems.push({ path: ['regions', r, 'id'], message: 'repeats a region id' });
      ids.add(region.id);
      regionsById.set(region.id, region);
    }
    if (
      typeof region.subdivision === 'string' &&
      typeof region.country === 'string' &&
      !region.subdivision.startsWith(`${region.country}-`)
    ) {
      problems.push({
        path: ['regions', r, 'subdivision'],
        message: `must be a subdivision of ${region.country}`,
      });
    }
    if (listOf(region.ipv4).length + listOf(region.ipv6).length === 0) {
      problems.push({ path: ['regions', r], message: 'has no IPv4 or IPv6 prefix' });
    }
    for (const family of [4, 6] as const) {
      const key = family === 4 ? 'ipv4' : 'ipv6';
      let usable = 0n;
      let any = false;
      listOf(region[key]).forEach((text, i) => {
        if (typeof text !== 'string') return; // zod already said so
        const path = ['regions', r, key, i];
        const result = parsePrefix(text);
        if (!result.ok) {
          problems.push({ path, message: result.problem });
          return;
        }
        if (result.prefix.family !== family) {
          problems.push({ path, message: `is not an IPv${family} prefix` });
          return;
        }
        if (family === 6 && result.prefix.length > MAX_IPV6_POOL_PREFIX) {
          problems.push({
            path,
            message: `must be /${MAX_IPV6_POOL_PREFIX} or shorter, so each draw has a whole interface identifier`,
          });
          return;
        }
        parsed.push({ prefix: result.prefix, path });
        usable += usableCount(result.prefix);
        any = true;
      });
      if (any && floor !== undefined) {
        const bits = log2BigInt(usable);
        if (!(bits >= floor)) {
          problems.push({
            path: ['regions', r, key],
            message: `draw entropy ${bits.toFixed(2)} bits is below the floor of ${floor} bits (${usable} usable addresses)`,
          });
        }
      }
    }
  });

  problems.push(...overlapProblems(parsed));

  if (typeof input.defaultRegion === 'string' && !ids.has(input.defaultRegion)) {
    problems.push({ path: ['defaultRegion'], message: 'names no configured region' });
  }
  if (isRecord(input.countryDefaults)) {
    for (const [country, id] of Object.entries(input.countryDefaults)) {
      if (typeof id !== 'string') continue;
      const region = regionsById.get(id);
      if (region === undefined) {
        problems.push({
          path: ['countryDefaults', country],
          message: 'names no configured region',
        });
      } else if (typeof region.country === 'string' && region.country !== country) {
        problems.push({
          path: ['countryDefaults', country],
          message: `names a region in ${region.country}, not ${country}`,
        });
      }
    }
  }
  return problems;
}

/**
 * Prefixes either nest or are disjoint, so one sweep in address order finds every overlap:
 * a prefix starting inside the widest open one is contained in it. Each contained prefix is
 * reported once, with the prefix (and its config path) that contains it.
 */
function overlapProblems(parsed: readonly ParsedRef[]): PoolProblem[] {
  const problems: PoolProblem[] = [];
  for (const family of [4, 6] as IpFamily[]) {
    const sorted = parsed
      .filter((p) => p.prefix.family === family)
      .sort((a, b) =>
        a.prefix.network === b.prefix.network
          ? a.prefix.length - b.prefix.length
          : a.prefix.network < b.prefix.network
            ? -1
            : 1,
      );
    let open: ParsedRef | undefined;
    for (const item of sorted) {
      if (open !== undefined && item.prefix.network <= prefixEnd(open.prefix)) {
        problems.push({
          path: item.path,
          message: `overlaps ${formatPrefix(open.prefix)} at ${open.path.join('.')}`,
        });
        continue;
      }
      open = item;
    }
  }
  return problems;
}

export const egressAddressesSchema = z
  .strictObject(egressAddressesFields)
  .superRefine(
    (config, ctx) => {
      for (const problem of poolProblems(config)) {
        ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
      }
    },
    // Run even when fields failed: the operator gets every problem in one go.
    { when: (payload) => isRecord(payload.value) },
  )
  .describe('Egress source address pools by region, and how hints choose among them.');

export type EgressAddressesConfig = z.output<typeof egressAddressesSchema>;
/** The config as the app's loader returns it: deep-frozen, hence readonly. */
export type EgressAddressesInput = z.input<typeof egressAddressesSchema>;
