/**
 * Which addresses of a pool prefix may be used as a source, and the k-th of them.
 *
 * IPv4: a prefix is one block of 2^(32-len) addresses. For /30 and shorter the network and
 * broadcast addresses are left out (on-path filters drop them as sources); a /31 or /32 is
 * used whole, as RFC 3021 does for point-to-point links.
 *
 * IPv6: a prefix of /64 or shorter is 2^(64-len) subnets, each with a 64-bit interface
 * identifier (RFC 4291 §2.5.1). In every subnet these IIDs are left out, the IANA registry
 * of reserved IIDs that RFC 5453 set up:
 *
 *   0000:0000:0000:0000                      Subnet-Router Anycast      (RFC 4291 §2.6.1)
 *   0200:5EFF:FE00:0000-0200:5EFF:FEFF:FFFF  IANA Ethernet block, incl. (RFC 4291, RFC 5453)
 *     0200:5EFF:FE00:5213                    Proxy Mobile IPv6          (RFC 6543)
 *   FDFF:FFFF:FFFF:FF80-FDFF:FFFF:FFFF:FFFF  Reserved Subnet Anycast    (RFC 2526 §2)
 *
 * Usable host values are numbered 0.. in address order, so a uniform draw over the numbers
 * is a uniform draw over the usable addresses, with no rejection loop over reserved ones.
 */
import { familyBits, prefixSize, type Prefix } from './prefix.ts';

/** Inclusive [first, last] host-part intervals, ascending and disjoint. */
type Intervals = readonly (readonly [bigint, bigint])[];

export const RESERVED_IIDS: Intervals = Object.freeze([
  Object.freeze([0x0000_0000_0000_0000n, 0x0000_0000_0000_0000n] as const),
  Object.freeze([0x0200_5eff_fe00_0000n, 0x0200_5eff_feff_ffffn] as const),
  Object.freeze([0xfdff_ffff_ffff_ff80n, 0xfdff_ffff_ffff_ffffn] as const),
]);

/** The longest IPv6 pool prefix: a draw needs a whole interface identifier. */
export const MAX_IPV6_POOL_PREFIX = 64;

interface HostSpace {
  /** Blocks in the prefix: 1 for IPv4, the number of /64 subnets for IPv6. */
  readonly blocks: bigint;
  /** Bits of the host part inside one block. */
  readonly blockBits: number;
  readonly excluded: Intervals;
  readonly usablePerBlock: bigint;
}

function hostSpace(prefix: Prefix): HostSpace {
  if (prefix.family === 6) {
    if (prefix.length > MAX_IPV6_POOL_PREFIX) {
      throw new RangeError(`an IPv6 pool prefix must be /${MAX_IPV6_POOL_PREFIX} or shorter`);
    }
    const blockBits = 64;
    const excludedCount = RESERVED_IIDS.reduce((n, [a, b]) => n + (b - a + 1n), 0n);
    return {
      blocks: 1n << BigInt(MAX_IPV6_POOL_PREFIX - prefix.length),
      blockBits,
      excluded: RESERVED_IIDS,
      usablePerBlock: (1n << 64n) - excludedCount,
    };
  }
  const blockBits = familyBits(4) - prefix.length;
  const size = prefixSize(prefix);
  const excluded: Intervals =
    blockBits >= 2
      ? [
          [0n, 0n],
          [size - 1n, size - 1n],
        ]
      : [];
  return { blocks: 1n, blockBits, excluded, usablePerBlock: size - BigInt(excluded.length) };
}

export function usableCount(prefix: Prefix): bigint {
  const space = hostSpace(prefix);
  return space.blocks * space.usablePerBlock;
}

/** The k-th usable host value of a block, 0 <= k < usablePerBlock. */
function nthUsableHost(space: HostSpace, k: bigint): bigint {
  if (k < 0n || k >= space.usablePerBlock) throw new RangeError('host index out of range');
  let host = k;
  for (const [first, last] of space.excluded) {
    if (host >= first) host += last - first + 1n;
  }
  return host;
}

/** The index-th usable address of the prefix, in address order. */
export function usableAddressAt(prefix: Prefix, index: bigint): bigint {
  const space = hostSpace(prefix);
  if (index < 0n || index >= space.blocks * space.usablePerBlock) {
    throw new RangeError('address index out of range');
  }
  const block = index / space.usablePerBlock;
  const host = nthUsableHost(space, index % space.usablePerBlock);
  return prefix.network + (block << BigInt(space.blockBits)) + host;
}

/** Whether an address inside the prefix is one a draw may return. */
export function isUsableAddress(prefix: Prefix, address: bigint): boolean {
  const space = hostSpace(prefix);
  const offset = address - prefix.network;
  if (offset < 0n || offset >= prefixSize(prefix)) return false;
  const host = offset & ((1n << BigInt(space.blockBits)) - 1n);
  return !space.excluded.some(([first, last]) => host >= first && host <= last);
}
