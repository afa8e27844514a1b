/**
 * Compiled pools: the validated config turned into what a draw needs (prefixes as integers,
 * usable counts, the entropy of one draw), built once at start-up and frozen.
 */
import { z } from 'zod';
import { egressAddressesSchema, type EgressAddressesConfig } from './config.ts';
import { decodeGeohash } from './geohash.ts';
import { log2BigInt, parsePrefix, type IpFamily, type Prefix } from './prefix.ts';
import { usableCount } from './reserved.ts';

export interface PoolPrefix {
  readonly prefix: Prefix;
  /** As configured (and as the geofeed prints it). */
  readonly text: string;
  readonly usable: bigint;
}

/** The addresses of one family in one region: what one draw picks from. */
export interface FamilyPool {
  readonly family: IpFamily;
  readonly prefixes: readonly PoolPrefix[];
  readonly usable: bigint;
  /** log2(usable): the entropy of one uniform draw, in bits. */
  readonly entropyBits: number;
}

export interface RegionPool {
  readonly id: string;
  readonly country: string;
  readonly subdivision: string | undefined;
  readonly city: string | undefined;
  readonly geohash: string | undefined;
  /** Centre of the region's geohash cell, when it has one. */
  readonly centre: { readonly latitude: number; readonly longitude: number } | undefined;
  readonly ipv4: FamilyPool | undefined;
  readonly ipv6: FamilyPool | undefined;
}

export interface AddressPools {
  /** In config order, which is also the tie-break order when matching hints. */
  readonly regions: readonly RegionPool[];
  readonly byId: ReadonlyMap<string, RegionPool>;
  readonly defaultRegion: RegionPool;
  readonly countryDefaults: ReadonlyMap<string, RegionPool>;
  readonly entropyFloorBits: number;
  readonly hintPrecision: number;
  readonly maxHintDistanceKm: number | undefined;
}

function familyPool(family: IpFamily, texts: readonly string[]): FamilyPool | undefined {
  if (texts.length === 0) return undefined;
  const prefixes = texts.map((text): PoolPrefix => {
    const r = parsePrefix(text);
    if (!r.ok) throw new TypeError(`compilePools needs a validated config: ${r.problem}`);
    return Object.freeze({ prefix: Object.freeze(r.prefix), text, usable: usableCount(r.prefix) });
  });
  const usable = prefixes.reduce((n, p) => n + p.usable, 0n);
  return Object.freeze({
    family,
    prefixes: Object.freeze(prefixes),
    usable,
    entropyBits: log2BigInt(usable),
  });
}

/**
 * Compiles a config that `egressAddressesSchema` accepted (the app's loader ran it). Given
 * anything else it re-validates and throws a TypeError: that is a wiring bug, not input.
 */
export function compilePools(config: EgressAddressesConfig): AddressPools {
  const checked = egressAddressesSchema.safeParse(config);
  if (!checked.success) {
    throw new TypeError(`compilePools needs a validated config: ${z.prettifyError(checked.error)}`);
  }
  const c = checked.data;
  const regions = c.regions.map((r): RegionPool => {
    const cell = r.geohash === undefined ? undefined : decodeGeohash(r.geohash);
    return Object.freeze({
      id: r.id,
      country: r.country,
      subdivision: r.subdivision,
      city: r.city,
      geohash: r.geohash,
      centre:
        cell === undefined
          ? undefined
          : Object.freeze({ latitude: cell.latitude, longitude: cell.longitude }),
      ipv4: familyPool(4, r.ipv4),
      ipv6: familyPool(6, r.ipv6),
    });
  });
  const byId = new Map(regions.map((r) => [r.id, r]));
  const countryDefaults = new Map(
    Object.entries(c.countryDefaults).map(([cc, id]) => [cc, byId.get(id) as RegionPool]),
  );
  return Object.freeze({
    regions: Object.freeze(regions),
    byId,
    defaultRegion: byId.get(c.defaultRegion) as RegionPool,
    countryDefaults,
    entropyFloorBits: c.entropyFloorBits,
    hintPrecision: c.hintPrecision,
    maxHintDistanceKm: c.maxHintDistanceKm,
  });
}

/** Validates and compiles in one step, listing every problem (`path: message`) on failure. */
export function parseAddressPools(
  input: unknown,
): { ok: true; pools: AddressPools } | { ok: false; problems: string[] } {
  const result = egressAddressesSchema.safeParse(input);
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map(
        (i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`,
      ),
    };
  }
  return { ok: true, pools: compilePools(result.data) };
}

export function familyPoolOf(region: RegionPool, family: IpFamily): FamilyPool | undefined {
  return family === 4 ? region.ipv4 : region.ipv6;
}
