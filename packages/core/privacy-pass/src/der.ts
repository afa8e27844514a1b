/**
 * Just enough DER (X.690) to take a SubjectPublicKeyInfo or PKCS#8 envelope apart and to
 * put one together: definite, minimal lengths only, every element bounded by its parent.
 */
import { PrivacyPassError } from './errors.ts';
import { concatBytes } from './bytes.ts';

export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_SEQUENCE = 0x30;

export interface DerElement {
  readonly tag: number;
  /** Offset of the first byte of the element (its tag). */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the element. */
  readonly end: number;
}

/** Reads one element at `offset` that must end by `limit`; throws `reason` otherwise. */
export function readElement(
  bytes: Uint8Array,
  offset: number,
  limit: number,
  reason: 'bad-key' | 'malformed' = 'bad-key',
): DerElement {
  const fail = (): never => {
    throw new PrivacyPassError(reason);
  };
  if (offset + 2 > limit) fail();
  const tag = bytes[offset] ?? fail();
  const first = bytes[offset + 1] ?? fail();
  let at = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    // Indefinite (0) and over-long (> 4 bytes) lengths are not DER, or not ours.
    if (count === 0 || count > 4 || at + count > limit) fail();
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[at + i] ?? 0);
    at += count;
    if (length < 0x80 || (bytes[offset + 2] ?? 0) === 0) fail(); // not minimal
  }
  if (at + length > limit) fail();
  return { tag, start: offset, contentStart: at, end: at + length };
}

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return new Uint8Array([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return new Uint8Array([0x80 | bytes.length, ...bytes]);
}

export function encodeElement(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes([new Uint8Array([tag]), encodeLength(content.length), content]);
}
