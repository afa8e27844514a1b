/**
 * The Capsule Protocol, RFC 9297 §3.2 (https://www.rfc-editor.org/rfc/rfc9297#section-3.2):
 * the data stream of a `connect-udp` request is a sequence of capsules.
 *
 *   Capsule Protocol {
 *     Capsule (..) ...,
 *   }
 *
 *   Capsule {
 *     Capsule Type (i),       ; RFC 9000 §16 varint; 0x00 is DATAGRAM (§3.5)
 *     Capsule Length (i),     ; length of Capsule Value in bytes, may be 0
 *     Capsule Value (..),
 *   }
 *
 * Unknown types: §3.2 says "Endpoints that receive a Capsule with an unknown Capsule Type MUST
 * silently drop that Capsule and skip over it to parse the next Capsule." This parser knows
 * no types: it hands every capsule to the sink, and the sink is where unknown types are
 * skipped (silently: no error, no log). The one exception is a type above 2^53-1, which a
 * `number` cannot name and so cannot be one we know: the parser skips those itself, without
 * buffering their value.
 *
 * Errors (§3.3, "treat it as if it had received a malformed or incomplete HTTP message"):
 * a declared length above `maxCapsuleBytes` throws 'capsule-too-large' as soon as the length
 * is read, before any of the value is buffered (§3.5 asks not to buffer unusable capsules);
 * `end()` inside a capsule throws 'truncated'. Any throw from `push` or `end` (including one
 * from the sink) leaves the parser failed: later calls rethrow the same error.
 */
import { CapsuleError } from './capsule-error.ts';
import { decodeVarint, varintLength, writeVarint } from './varint.ts';

export interface Capsule {
  readonly type: number;
  readonly value: Uint8Array;
}

/** RFC 9297 §3.5. */
export const DATAGRAM_CAPSULE_TYPE = 0x00;

/**
 * 64 KiB: room for every valid CONNECT-UDP datagram (a 65527-byte UDP payload plus its
 * context ID, RFC 9298 §5) with a little to spare, and a bound on what one peer can make
 * us buffer per stream.
 */
export const DEFAULT_MAX_CAPSULE_BYTES = 65536;

/** Type and length varints are at most 8 bytes each. */
const MAX_HEADER = 16;

/** Type and length of a capsule, for writing the header and the value as separate chunks. */
export function encodeCapsuleHeader(type: number | bigint, length: number): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(length));
  writeVarint(out, writeVarint(out, 0, type), length);
  return out;
}

export function encodeCapsule(type: number | bigint, value: Uint8Array): Uint8Array {
  const headerLength = varintLength(type) + varintLength(value.length);
  const out = new Uint8Array(headerLength + value.length);
  writeVarint(out, writeVarint(out, 0, type), value.length);
  out.set(value, headerLength);
  return out;
}

export interface CapsuleParserOptions {
  /**
   * Called once per complete capsule, in stream order. `value` may be a view into the chunk
   * given to `push` (no copy when a capsule arrives whole): copy it to keep it past the
   * lifetime of that chunk. The sink must not call `push` or `end` itself.
   */
  readonly onCapsule: (type: number, value: Uint8Array) => void;
  /** Largest accepted Capsule Length, in bytes. Default `DEFAULT_MAX_CAPSULE_BYTES`. */
  readonly maxCapsuleBytes?: number;
}

export class CapsuleParser {
  readonly #onCapsule: (type: number, value: Uint8Array) => void;
  readonly #max: number;
  /** Header bytes of a capsule whose type and length straddle chunks. */
  readonly #header = new Uint8Array(MAX_HEADER);
  #headerLength = 0;
  /** In a value: its type (undefined when skipped), bytes still missing, and its buffer. */
  #inValue = false;
  #type: number | undefined = 0;
  #missing = 0;
  #value: Uint8Array | undefined;
  #filled = 0;
  #failure: { readonly error: unknown } | undefined;

  constructor(options: CapsuleParserOptions) {
    const max = options.maxCapsuleBytes ?? DEFAULT_MAX_CAPSULE_BYTES;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError('maxCapsuleBytes must be a non-negative integer');
    }
    this.#onCapsule = options.onCapsule;
    this.#max = max;
  }

  /** True between capsules: `end()` now would not throw. */
  get atBoundary(): boolean {
    return !this.#inValue && this.#headerLength === 0;
  }

  push(chunk: Uint8Array): void {
    if (this.#failure) throw this.#failure.error;
    try {
      this.#consume(chunk);
    } catch (error) {
      this.#failure = { error };
      throw error;
    }
  }

  /** The data stream ended cleanly; a partial capsule left over is an error (§3.3). */
  end(): void {
    if (this.#failure) throw this.#failure.error;
    if (!this.atBoundary) {
      const error = new CapsuleError('truncated', 'capsule stream ended inside a capsule');
      this.#failure = { error };
      throw error;
    }
  }

  #consume(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#inValue) {
        i = this.#fill(chunk, i);
        continue;
      }
      if (this.#headerLength === 0) {
        // Fast path: the whole header is in this chunk.
        const type = decodeVarint(chunk, i);
        if (type.ok) {
          const length = decodeVarint(chunk, i + type.bytesRead);
          if (length.ok) {
            i += type.bytesRead + length.bytesRead;
            this.#begin(type.value, length.value);
            continue;
          }
        }
      }
      // Slow path, fewer than 16 bytes: gather the header one byte at a time.
      this.#header[this.#headerLength++] = chunk[i++] as number;
      const header = this.#header.subarray(0, this.#headerLength);
      const type = decodeVarint(header, 0);
      if (!type.ok) continue;
      const length = decodeVarint(header, type.bytesRead);
      if (!length.ok) continue;
      this.#headerLength = 0;
      this.#begin(type.value, length.value);
    }
  }

  #begin(type: number | bigint, length: number | bigint): void {
    if (typeof length === 'bigint' || length > this.#max) {
      throw new CapsuleError('capsule-too-large', `capsule longer than ${this.#max} bytes`);
    }
    this.#type = typeof type === 'number' ? type : undefined;
    if (length === 0) {
      this.#emit(new Uint8Array(0));
      return;
    }
    this.#inValue = true;
    this.#missing = length;
    this.#value = undefined;
    this.#filled = 0;
  }

  /** Takes value bytes from `chunk` at `i`; returns the new offset. */
  #fill(chunk: Uint8Array, i: number): number {
    const take = Math.min(this.#missing, chunk.length - i);
    this.#missing -= take;
    if (this.#type === undefined) {
      if (this.#missing === 0) this.#inValue = false;
      return i + take;
    }
    if (this.#missing === 0 && this.#value === undefined) {
      // The whole value is in this chunk: hand out a view, no copy.
      this.#inValue = false;
      this.#emit(chunk.subarray(i, i + take));
      return i + take;
    }
    this.#value ??= new Uint8Array(this.#filled + this.#missing + take);
    this.#value.set(chunk.subarray(i, i + take), this.#filled);
    this.#filled += take;
    if (this.#missing === 0) {
      const value = this.#value;
      this.#inValue = false;
      this.#value = undefined;
      this.#emit(value);
    }
    return i + take;
  }

  #emit(value: Uint8Array): void {
    if (this.#type !== undefined) this.#onCapsule(this.#type, value);
  }
}
