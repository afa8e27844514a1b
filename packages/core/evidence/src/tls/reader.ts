/**
 * A cursor over one complete structure (a handshake body, an extension). Running past its
 * end is 'invalid', not 'incomplete': the enclosing length already said how long it is.
 */
import { EvidenceError } from '../errors.ts';

export class Reader {
  #at = 0;

  readonly bytes: Uint8Array;
  /** Offset of `bytes` in the caller's input, for error offsets. */
  readonly base: number;

  constructor(bytes: Uint8Array, base = 0) {
    this.bytes = bytes;
    this.base = base;
  }

  get offset(): number {
    return this.#at;
  }

  get remaining(): number {
    return this.bytes.length - this.#at;
  }

  #need(n: number, what: string): void {
    if (this.#at + n > this.bytes.length)
      throw new EvidenceError('invalid', this.base + this.#at, `${what} runs past its container`);
  }

  u8(what: string): number {
    this.#need(1, what);
    return this.bytes[this.#at++] as number;
  }

  u16(what: string): number {
    this.#need(2, what);
    const v = ((this.bytes[this.#at] as number) << 8) | (this.bytes[this.#at + 1] as number);
    this.#at += 2;
    return v;
  }

  take(n: number, what: string): Uint8Array {
    this.#need(n, what);
    const out = this.bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  /** A vector with a 1- or 2-byte length prefix, checked against its bounds (RFC 8446 §3.4). */
  vector(lengthBytes: 1 | 2, min: number, max: number, what: string): Reader {
    const at = this.#at;
    const n = lengthBytes === 1 ? this.u8(what) : this.u16(what);
    if (n < min || n > max)
      throw new EvidenceError('invalid', this.base + at, `${what} length out of bounds`);
    return new Reader(this.take(n, what), this.base + at + lengthBytes);
  }

  end(what: string): void {
    if (this.#at !== this.bytes.length)
      throw new EvidenceError('invalid', this.base + this.#at, `bytes after ${what}`);
  }
}
