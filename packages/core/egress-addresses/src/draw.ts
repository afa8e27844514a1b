/**
 * One uniform draw of a source address from a family pool.
 *
 * The pool's usable addresses are numbered 0..N-1 across its prefixes in config order; a
 * draw picks an index uniformly (rejection sampling on just enough random bits, so there is
 * no modulo bias) and maps it to its address (reserved.ts skips reserved host values). The
 * draw's entropy is log2(N) bits whichever prefix it falls in, because bigger prefixes get
 * proportionally more of the indices.
 */
import { formatAddress, type IpFamily } from './prefix.ts';
import type { FamilyPool } from './pools.ts';
import { usableAddressAt } from './reserved.ts';

/** Returns `n` uniformly random bytes (crypto.randomBytes in the shell, a seeded one in tests). */
export type Rng = (n: number) => Uint8Array;

export interface SourceAddress {
  readonly family: IpFamily;
  readonly address: string;
  /** Entropy of the draw that produced it, in bits. */
  readonly entropyBits: number;
}

/**
 * Each try succeeds with probability above 1/2, so 128 failures in a row mean a broken rng
 * (the chance with a sound one is below 2^-128); a bounded loop fails loudly instead.
 */
const MAX_TRIES = 128;

/** A uniform integer in [0, n), n >= 1. */
export function uniformBelow(n: bigint, rng: Rng): bigint {
  if (n < 1n) throw new RangeError('n must be at least 1');
  if (n === 1n) return 0n;
  const bits = (n - 1n).toString(2).length;
  const bytes = Math.ceil(bits / 8);
  const mask = (1n << BigInt(bits)) - 1n;
  for (let i = 0; i < MAX_TRIES; i++) {
    const buf = rng(bytes);
    if (!(buf instanceof Uint8Array) || buf.length !== bytes) {
      throw new TypeError(`rng must return ${bytes} bytes`);
    }
    let v = 0n;
    for (const b of buf) v = (v << 8n) | BigInt(b);
    v &= mask;
    if (v < n) return v;
  }
  throw new Error('rng produced no value in range: it is not random');
}

/** The address with the given index among the pool's usable addresses. */
export function poolAddressAt(pool: FamilyPool, index: bigint): bigint {
  let rest = index;
  for (const p of pool.prefixes) {
    if (rest < p.usable) return usableAddressAt(p.prefix, rest);
    rest -= p.usable;
  }
  throw new RangeError('address index out of range');
}

export function drawSource(pool: FamilyPool, rng: Rng): SourceAddress {
  const value = poolAddressAt(pool, uniformBelow(pool.usable, rng));
  return Object.freeze({
    family: pool.family,
    address: formatAddress(pool.family, value),
    entropyBits: pool.entropyBits,
  });
}
