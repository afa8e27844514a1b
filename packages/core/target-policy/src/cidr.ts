/**
 * The target policy's prefixes are `@splitrelay/authority`'s (one reading of a CIDR block for
 * every layer); this adds what the policy needs on top of it.
 */
import { cidrContains, parseCidr, type Cidr } from '@splitrelay/authority';
import type { IpAddress } from './ip.ts';

export { cidrContains, formatCidr, parseCidr, type Cidr } from '@splitrelay/authority';

/** Parses a CIDR known to be valid (the built-in tables); throws on a programming error. */
export function cidr(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(`bad built-in CIDR: ${text} ${r.problem}`);
  return r.cidr;
}

export function anyContains(blocks: readonly Cidr[], ip: IpAddress): boolean {
  return blocks.some((b) => cidrContains(b, ip));
}
