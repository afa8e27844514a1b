/** Where the demo puts each role: one loopback address per role, fixed ports. */
export const DEMO = {
  clientSource: '127.0.1.1',
  ingress: {
    host: '127.0.2.1',
    port: 4443,
    healthPort: 9101,
    name: 'ingress.demo.splitrelay.test',
  },
  nats: { host: '127.0.7.1', port: 4222 },
  issuer: { host: '127.0.6.1', port: 8445, name: 'issuer.demo.splitrelay.test' },
  egress: {
    id: 'egress-demo',
    host: '127.0.3.1',
    port: 8443,
    healthPort: 9102,
    region: 'eu',
  },
  /** The second region: another egress, another pool. */
  egressUs: {
    id: 'egress-demo-us',
    host: '127.0.3.2',
    port: 8443,
    healthPort: 9103,
    region: 'us',
  },
  target: { host: '127.0.4.1', port: 8444, name: 'target.demo.splitrelay.test' },
  socks: '127.0.0.1:1080',
  http: '127.0.0.1:8080',
  /** The client's Oblivious HTTP endpoint and DNS forwarder; the egress's own resolver. */
  ohttp: '127.0.0.1:8081',
  dns: '127.0.0.1:8053',
  resolver: { host: '127.0.4.53', port: 5300 },
} as const;

/**
 * The source address pools, per egress. Every 127.x.y.z address is local on Linux, so the
 * IPv4 pools need no setup. The IPv6 pool (a documentation prefix) is bound as AnyIP on
 * `lo`, which takes root: without it the demo leaves IPv6 out and says so.
 */
export const DEMO_POOLS = {
  eu: {
    defaultRegion: 'nl',
    entropyFloorBits: 7,
    countryDefaults: { DE: 'de-munich' },
    regions: [
      { id: 'nl', country: 'NL', city: 'Amsterdam', geohash: 'u173z', ipv4: ['127.0.10.0/24'] },
      {
        id: 'de-munich',
        country: 'DE',
        subdivision: 'DE-BY',
        city: 'München',
        geohash: 'u281z',
        ipv4: ['127.0.12.0/24'],
      },
    ],
  },
  us: {
    defaultRegion: 'us-ca',
    entropyFloorBits: 7,
    regions: [
      {
        id: 'us-ca',
        country: 'US',
        subdivision: 'US-CA',
        city: 'San Francisco',
        geohash: '9q8yy',
        ipv4: ['127.0.11.0/24'],
      },
    ],
  },
  /** Added to the eu egress's 'nl' region when the demo runs as root. */
  ipv6: '2001:db8:5e:1::/64',
} as const;

/** Where the demo client says it is: Munich, shared as "general location". */
export const DEMO_LOCATION = {
  share: 'general-location',
  country: 'DE',
  latitude: 48.137,
  longitude: 11.575,
} as const;

/** Extra egress allowlist entries from SPLITRELAY_ALLOW_TARGETS (comma-separated CIDRs). */
export function extraAllowedTargets(env: NodeJS.ProcessEnv): string[] {
  return (env.SPLITRELAY_ALLOW_TARGETS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
