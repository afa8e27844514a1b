/** Byte helpers shared by the backends. */

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** I2OSP(n, 2) of RFC 8017 §4.1, the only width HPKE's labels need. */
export function u16(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

export function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** A plain Uint8Array view of a Buffer, so values never expose Buffer-only methods. */
export function view(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Random bytes from a source that can be replaced (tests script ephemeral keys with it). */
export type Rng = (length: number) => Uint8Array;

export const systemRng: Rng = (length) => crypto.getRandomValues(new Uint8Array(length));
