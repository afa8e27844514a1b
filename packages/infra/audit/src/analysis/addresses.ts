/** Address sets compared by their bytes, whatever their spelling (IPv4-mapped IPv6 included). */
import { parseAddress } from '@splitrelay/evidence';

function addressKey(text: string): string | undefined {
  const bare = text.replace(/^\[|\]$/g, '');
  const parsed = parseAddress(bare);
  if (!parsed) return undefined;
  const b = Buffer.from(parsed.bytes);
  const mapped =
    b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return (mapped ? b.subarray(12) : b).toString('hex');
}

export class AddressSet {
  readonly #keys = new Set<string>();
  constructor(addresses: Iterable<string>) {
    for (const a of addresses) {
      const k = addressKey(a);
      if (k) this.#keys.add(k);
    }
  }
  has(address: string): boolean {
    const k = addressKey(address);
    return k !== undefined && this.#keys.has(k);
  }
}

/** The address part of `a.b.c.d:port` or `[v6]:port`. */
export function hostOf(peer: string): string {
  const m = /^\[([^\]]+)\]:\d+$/.exec(peer);
  if (m) return m[1] as string;
  const i = peer.lastIndexOf(':');
  return i > 0 && peer.indexOf(':') === i ? peer.slice(0, i) : peer;
}
