import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIPv4, formatIPv6 } from '@splitrelay/authority';
import { Socks5Error, type DecodeResult } from '../src/index.ts';

export type Decoder<T> = (buf: Uint8Array) => DecodeResult<T>;

export function bytes(...parts: (number | string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

/** Every strict prefix is incomplete and the whole message decodes with bytesRead = length. */
export function decodeExactly<T>(decode: Decoder<T>, msg: Uint8Array): T {
  for (let i = 0; i < msg.length; i++) {
    assert.deepEqual(decode(msg.subarray(0, i)), { ok: false, incomplete: true }, `prefix ${i}`);
  }
  const r = decode(msg);
  assert.ok(r.ok, 'whole message is not complete');
  assert.equal(r.bytesRead, msg.length);
  return r.value;
}

/**
 * Runs a decoder the way a socket reader does: append each chunk, decode as many messages as
 * the buffer holds, keep the rest.
 */
export function decodeStream<T>(decode: Decoder<T>, chunks: Uint8Array[]): T[] {
  const values: T[] = [];
  let buf = new Uint8Array(0);
  for (const chunk of chunks) {
    const next = new Uint8Array(buf.length + chunk.length);
    next.set(buf);
    next.set(chunk, buf.length);
    buf = next;
    for (;;) {
      const r = decode(buf);
      if (!r.ok) break;
      values.push(r.value);
      buf = buf.subarray(r.bytesRead);
    }
  }
  assert.equal(buf.length, 0, 'bytes left over');
  return values;
}

export function oneByteChunks(msg: Uint8Array): Uint8Array[] {
  return Array.from(msg, (b) => Uint8Array.of(b));
}

/** Splits a buffer at arbitrary points. */
export function chunked(msg: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (msg.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(msg.subarray(at, p));
    at = p;
  }
  out.push(msg.subarray(at));
  return out;
}

/** Random input never throws anything but Socks5Error. */
export function neverThrowsOtherThanSocks5Error<T>(
  decode: Decoder<T>,
  prefix: number[] = [],
): void {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
      const input = Uint8Array.from([...prefix, ...tail]);
      try {
        const r = decode(input);
        if (r.ok) assert.ok(r.bytesRead <= input.length);
      } catch (err) {
        if (!(err instanceof Socks5Error)) throw err;
      }
    }),
    { numRuns: 3000 },
  );
}

const label = fc.stringMatching(/^[a-z0-9_](?:[a-z0-9_-]{0,20}[a-z0-9_])?$/);
const lastLabel = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/).filter((l) => !l.endsWith('-'));

/** Canonical hosts of all three kinds, as a decoder returns them. */
export const hostArb = fc.oneof(
  fc
    .tuple(fc.array(label, { maxLength: 3 }), lastLabel)
    .map(([ls, last]) => ({ host: [...ls, last].join('.'), kind: 'dns' as const })),
  fc
    .uint8Array({ minLength: 4, maxLength: 4 })
    .map((b) => ({ host: formatIPv4(b), kind: 'ipv4' as const })),
  fc
    .uint8Array({ minLength: 16, maxLength: 16 })
    .map((b) => ({ host: formatIPv6(b), kind: 'ipv6' as const })),
);

export const portArb = fc.integer({ min: 0, max: 65535 });
