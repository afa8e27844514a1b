/**
 * CIDR blocks ("10.0.0.0/8", "fe80::/10") and prefix matching over address bytes.
 */
import { formatIp, parseIp, type IpAddress, type IpFamily } from './ip.ts';

export interface Cidr {
  readonly family: IpFamily;
  /** The network address: host bits are zero. */
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

export type CidrParse =
  { readonly ok: true; readonly cidr: Cidr } | { readonly ok: false; readonly problem: string };

/**
 * Strict, because an operator's typo here widens or narrows what the egress may reach:
 * host bits must be zero ("10.0.0.1/8" is refused with a hint) and zone ids are refused.
 * A bare address means that one host (/32 or /128).
 */
export function parseCidr(text: string): CidrParse {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(addrText);
  if (ip === undefined)
    return { ok: false, problem: `"${text}" is not an IPv4 or IPv6 address/prefix` };
  const bits = ip.bytes.length * 8;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > bits) {
      return { ok: false, problem: `"${text}" has a prefix length outside 0-${bits}` };
    }
    prefix = Number(p);
  }
  const network = maskBytes(ip.bytes, prefix);
  if (!network.every((v, i) => ip.bytes[i] === v)) {
    const hint = `${formatIp({ family: ip.family, bytes: network })}/${prefix}`;
    return { ok: false, problem: `"${text}" has host bits set (did you mean ${hint}?)` };
  }
  return { ok: true, cidr: { family: ip.family, bytes: network, prefix } };
}

/** Parses a CIDR known to be valid (the built-in tables); throws on a programming error. */
export function cidr(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(`bad built-in CIDR: ${r.problem}`);
  return r.cidr;
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = (bytes[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

export function cidrContains(block: Cidr, ip: IpAddress): boolean {
  if (block.family !== ip.family) return false;
  const full = block.prefix >> 3;
  for (let i = 0; i < full; i++) if (block.bytes[i] !== ip.bytes[i]) return false;
  const rem = block.prefix & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return ((ip.bytes[full] as number) & mask) === block.bytes[full];
}

export function anyContains(blocks: readonly Cidr[], ip: IpAddress): boolean {
  return blocks.some((b) => cidrContains(b, ip));
}

export function formatCidr(block: Cidr): string {
  return `${formatIp(block)}/${block.prefix}`;
}
