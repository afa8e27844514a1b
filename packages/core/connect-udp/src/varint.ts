/**
 * QUIC variable-length integers, RFC 9000 §16
 * (https://www.rfc-editor.org/rfc/rfc9000#section-16). Capsule types and lengths and
 * CONNECT-UDP context IDs are all written this way, even over HTTP/1.1 and HTTP/2.
 *
 *   The two most significant bits of the first byte give the length:
 *
 *   +------+--------+-------------+-----------------------+
 *   | 2MSB | Length | Usable Bits | Range                 |
 *   +------+--------+-------------+-----------------------+
 *   | 00   | 1      | 6           | 0-63                  |
 *   | 01   | 2      | 14          | 0-16383               |
 *   | 10   | 4      | 30          | 0-1073741823          |
 *   | 11   | 8      | 62          | 0-4611686018427387903 |
 *   +------+--------+-------------+-----------------------+
 *   The rest of the bits are the value, in network byte order.
 *
 * Number or bigint: a decoded value is a `number` when it is at most
 * `Number.MAX_SAFE_INTEGER` (2^53-1) and a `bigint` above that, so the common case (every
 * length and every type we act on) stays a plain number and nothing is ever rounded. The
 * encoder takes either, but refuses a `number` that is not a safe integer: above 2^53-1 a
 * number may already have been rounded, so those values must be given as a bigint.
 *
 * Non-minimal encodings (37 as 0x4025 rather than 0x25) are accepted on decode: RFC 9000
 * §16 says values "do not need to be encoded on the minimum number of bytes necessary",
 * and only QUIC frame types (not used here) are required to be minimal. We always encode
 * minimally.
 */

export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T; readonly bytesRead: number }
  | { readonly ok: false; readonly incomplete: true };

const incomplete: { readonly ok: false; readonly incomplete: true } = Object.freeze({
  ok: false,
  incomplete: true,
});

/** 2^62-1, the largest value a varint can carry. */
export const MAX_VARINT = 2n ** 62n - 1n;

/** 2^32, to combine the two halves of an 8-byte varint without 32-bit bit operations. */
const TWO_32 = 0x1_0000_0000;

/**
 * Decodes one varint at `offset`. Never throws: every byte sequence is a valid varint
 * prefix, so the only failure is running out of bytes.
 */
export function decodeVarint(buf: Uint8Array, offset = 0): DecodeResult<number | bigint> {
  if (offset >= buf.length) return incomplete;
  const first = buf[offset] as number;
  const length = 1 << (first >> 6);
  if (offset + length > buf.length) return incomplete;
  const b = (i: number): number => buf[offset + i] as number;

  switch (length) {
    case 1:
      return { ok: true, value: first & 0x3f, bytesRead: 1 };
    case 2:
      return { ok: true, value: ((first & 0x3f) << 8) | b(1), bytesRead: 2 };
    case 4:
      // `>>> 0` keeps the result unsigned; the top 2 bits are masked so it fits 30 bits anyway.
      return {
        ok: true,
        value: (((first & 0x3f) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0,
        bytesRead: 4,
      };
    default: {
      const hi = (((first & 0x3f) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0;
      const lo = ((b(4) << 24) | (b(5) << 16) | (b(6) << 8) | b(7)) >>> 0;
      // hi < 2^21 exactly when hi * 2^32 + lo <= 2^53-1, i.e. the number is exact.
      const value = hi < 0x20_0000 ? hi * TWO_32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
      return { ok: true, value, bytesRead: 8 };
    }
  }
}

function checkedBigInt(value: number | bigint): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError('varint value must be a safe integer (use a bigint above 2^53-1)');
    }
    value = BigInt(value);
  }
  if (value < 0n || value > MAX_VARINT) throw new RangeError('varint value must be in 0..2^62-1');
  return value;
}

/** Bytes the minimal encoding of `value` takes: 1, 2, 4 or 8. Throws RangeError out of range. */
export function varintLength(value: number | bigint): 1 | 2 | 4 | 8 {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    if (value <= 0x3f) return 1;
    if (value <= 0x3fff) return 2;
    if (value <= 0x3fff_ffff) return 4;
    return 8;
  }
  return checkedBigInt(value) <= 0x3fff_ffffn ? varintLength(Number(value)) : 8;
}

/**
 * Writes the minimal encoding of `value` into `buf` at `offset` and returns the offset after
 * it, so a caller can build a header in place without an intermediate array.
 */
export function writeVarint(buf: Uint8Array, offset: number, value: number | bigint): number {
  const length = varintLength(value);
  if (offset < 0 || offset + length > buf.length) throw new RangeError('buffer too small');
  if (length === 8) {
    const v = checkedBigInt(value) | (3n << 62n);
    const hi = Number(v >> 32n);
    const lo = Number(v & 0xffff_ffffn);
    for (let i = 0; i < 4; i++) {
      buf[offset + i] = hi >>> (24 - 8 * i);
      buf[offset + 4 + i] = lo >>> (24 - 8 * i);
    }
    return offset + 8;
  }
  const v = Number(value);
  if (length === 1) {
    buf[offset] = v;
  } else if (length === 2) {
    buf[offset] = 0x40 | (v >> 8);
    buf[offset + 1] = v;
  } else {
    buf[offset] = 0x80 | (v >>> 24);
    buf[offset + 1] = v >>> 16;
    buf[offset + 2] = v >>> 8;
    buf[offset + 3] = v;
  }
  return offset + length;
}

/** The minimal encoding of `value`. Throws RangeError outside 0..2^62-1 or for an unsafe number. */
export function encodeVarint(value: number | bigint): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}
