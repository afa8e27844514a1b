import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { Rng } from '../src/index.ts';

/** Deterministic bytes: SHA-256 of seed and a counter, so a seeded test always sees the same draws. */
export function seededRng(seed: string): Rng {
  let counter = 0;
  let buf = Buffer.alloc(0);
  return (n: number) => {
    while (buf.length < n) {
      buf = Buffer.concat([buf, createHash('sha256').update(`${seed}:${counter++}`).digest()]);
    }
    const out = new Uint8Array(buf.subarray(0, n));
    buf = buf.subarray(n);
    return out;
  };
}

/** A config in the shape an operator writes (documentation ranges, three regions). */
export function sampleConfig(): Record<string, unknown> {
  return {
    defaultRegion: 'de',
    entropyFloorBits: 4,
    hintPrecision: 4,
    countryDefaults: { FR: 'fr-paris' },
    regions: [
      {
        id: 'de',
        country: 'DE',
        ipv4: ['198.51.100.0/27'],
        ipv6: ['2001:db8:de::/64'],
      },
      {
        id: 'de-munich',
        country: 'DE',
        subdivision: 'DE-BY',
        city: 'München',
        geohash: 'u281z',
        ipv4: ['203.0.113.64/27'],
        ipv6: ['2001:db8:b0::/63'],
      },
      {
        id: 'de-berlin',
        country: 'DE',
        subdivision: 'DE-BE',
        city: 'Berlin',
        geohash: 'u33dc',
        ipv4: ['203.0.113.128/27'],
        ipv6: ['2001:db8:be::/64'],
      },
      {
        id: 'fr-paris',
        country: 'FR',
        subdivision: 'FR-IDF',
        city: 'Paris',
        geohash: 'u09tv',
        ipv4: ['192.0.2.0/26'],
        ipv6: [],
      },
    ],
  };
}
