export { EgressAddressError, isEgressAddressError, type EgressAddressErrorCode } from './errors.ts';
export {
  egressAddressesSchema,
  egressAddressesFields,
  poolProblems,
  REGION_ID,
  COUNTRY_CODE,
  SUBDIVISION_CODE,
  MAX_REGIONS,
  MAX_PREFIXES_PER_REGION,
  MAX_HINT_PRECISION,
  type EgressAddressesConfig,
  type EgressAddressesInput,
  type PoolProblem,
} from './config.ts';
export {
  compilePools,
  parseAddressPools,
  familyPoolOf,
  type AddressPools,
  type RegionPool,
  type FamilyPool,
  type PoolPrefix,
} from './pools.ts';
export {
  parsePrefix,
  formatPrefix,
  parseAddress,
  formatAddress,
  prefixContains,
  prefixesOverlap,
  type Prefix,
  type IpFamily,
} from './prefix.ts';
export {
  RESERVED_IIDS,
  MAX_IPV6_POOL_PREFIX,
  usableCount,
  usableAddressAt,
  isUsableAddress,
} from './reserved.ts';
export { drawSource, uniformBelow, poolAddressAt, type Rng, type SourceAddress } from './draw.ts';
export {
  openSessionSource,
  type SessionSource,
  type OpenSessionSourceOptions,
} from './session-source.ts';
export { DrawCounters, type DrawSnapshot, type RegionCounts } from './metrics.ts';
export {
  unusablePrefixes,
  hostRouteProblems,
  anyIpCommand,
  localRoutesFromIpJson,
  type UnusablePrefix,
} from './host-check.ts';
export {
  encodeGeohash,
  decodeGeohash,
  cutGeohash,
  isGeohash,
  distanceKm,
  GEOHASH_ALPHABET,
  MAX_GEOHASH_LENGTH,
  type GeohashCell,
} from './geohash.ts';
export {
  parseGeohashHint,
  parseRegionHint,
  readHint,
  matchRegion,
  GEOHASH_HINT_HEADER,
  REGION_HINT_HEADER,
  INVALID_HINT_DETAILS,
  MAX_HINT_FIELD_BYTES,
  type GeoHint,
  type HintHeaders,
  type HintReading,
  type MatchedBy,
  type RegionMatch,
} from './geo-hint.ts';
export {
  clientGeoHint,
  GENERAL_LOCATION_PRECISION,
  MAX_CLIENT_PRECISION,
  type LocationChoice,
  type DeviceLocation,
  type HintField,
} from './client-hint.ts';
export { parseStringItem, serializeString } from './structured-string.ts';
export {
  generateGeofeed,
  parseGeofeed,
  MAX_GEOFEED_CHARS,
  MAX_GEOFEED_LINE,
  type GeofeedEntry,
  type GeofeedOptions,
} from './geofeed.ts';
export {
  signManifest,
  verifyManifest,
  manifestAddresses,
  manifestSchema,
  manifestFields,
  MANIFEST_CONTEXT,
  MAX_MANIFEST_BYTES,
  type Manifest,
} from './manifest.ts';
