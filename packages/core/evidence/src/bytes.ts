/** Byte helpers shared by the codecs. Reads past the end return undefined, never 0. */

export function u16be(b: Uint8Array, at: number): number | undefined {
  if (at < 0 || at + 2 > b.length) return undefined;
  return ((b[at] as number) << 8) | (b[at + 1] as number);
}

export function u24be(b: Uint8Array, at: number): number | undefined {
  if (at < 0 || at + 3 > b.length) return undefined;
  return ((b[at] as number) << 16) | ((b[at + 1] as number) << 8) | (b[at + 2] as number);
}

export function u32be(b: Uint8Array, at: number): number | undefined {
  if (at < 0 || at + 4 > b.length) return undefined;
  return (
    (b[at] as number) * 0x1000000 +
    (((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number))
  );
}

export function u32(b: Uint8Array, at: number, littleEndian: boolean): number | undefined {
  if (at < 0 || at + 4 > b.length) return undefined;
  if (!littleEndian) return u32be(b, at);
  return (
    (b[at + 3] as number) * 0x1000000 +
    (((b[at + 2] as number) << 16) | ((b[at + 1] as number) << 8) | (b[at] as number))
  );
}

export function u16(b: Uint8Array, at: number, littleEndian: boolean): number | undefined {
  if (at < 0 || at + 2 > b.length) return undefined;
  return littleEndian
    ? (b[at] as number) | ((b[at + 1] as number) << 8)
    : ((b[at] as number) << 8) | (b[at + 1] as number);
}

/** A Buffer view of the same memory (no copy), for its fast indexOf. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Printable ASCII as is, everything else as '.', the way hex dumps show bytes. */
export function printable(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
  return s;
}
