/**
 * Finds bytes inside base64 or base64url text (RFC 4648 §4, §5) without knowing where the
 * base64 starts. Bytes sit at one of three alignments to the 3-byte groups a base64
 * encoder works in; at each, the characters that carry only needle bits are a fixed
 * string (the prefilter, found with indexOf), and the characters at either edge carry some
 * needle bits and some of the neighbours'. A hit counts only when those edge bits match as
 * well, so a match is exactly the needle's bits, never a near miss.
 *
 *   alignment 1, needle AB CD EF:   ..|xx AB CD|EF ..|
 *   chars (6 bits each):            [x x][x A][B C][C D] [E E][F ?]
 *                                    edge  ^full chars^    full edge
 *
 * Line breaks inside base64 (MIME wraps at 76 characters) break the match; the captures
 * this package reads carry base64 in headers and JSON, unwrapped.
 */

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUE[STD.charCodeAt(i)] = i;
VALUE['-'.charCodeAt(0)] = 62;
VALUE['_'.charCodeAt(0)] = 63;

function value(code: number): number {
  return code < 128 ? (VALUE[code] as number) : -1;
}

interface EdgeCheck {
  readonly at: number;
  readonly mask: number;
  readonly bits: number;
}

export interface Base64Plan {
  /** The full characters, in the standard and (when different) the URL-safe alphabet. */
  readonly middles: readonly string[];
  /** Index in the encoding of the first full character. */
  readonly middleAt: number;
  readonly edges: readonly EdgeCheck[];
  /** Indexes in the encoding of the first and last characters carrying needle bits. */
  readonly first: number;
  readonly last: number;
}

/** One plan per alignment; none for needles too short to have a full character. */
export function planBase64(needle: Uint8Array): Base64Plan[] {
  const plans: Base64Plan[] = [];
  for (let a = 0; a < 3; a++) {
    const padded = new Uint8Array(a + needle.length);
    padded.set(needle, a);
    const encoded = Buffer.from(padded).toString('base64').replace(/=+$/, '');
    const lo = 8 * a;
    const hi = 8 * (a + needle.length);
    const first = Math.floor(lo / 6);
    const last = Math.ceil(hi / 6) - 1;
    const edges: EdgeCheck[] = [];
    let fullFrom = -1;
    let fullTo = -1;
    for (let j = first; j <= last; j++) {
      let mask = 0;
      for (let b = Math.max(6 * j, lo); b < Math.min(6 * j + 6, hi); b++)
        mask |= 1 << (5 - (b - 6 * j));
      if (mask === 63) {
        if (fullFrom < 0) fullFrom = j;
        fullTo = j;
      } else {
        edges.push({ at: j, mask, bits: value(encoded.charCodeAt(j)) & mask });
      }
    }
    if (fullFrom < 0) continue;
    const middle = encoded.slice(fullFrom, fullTo + 1);
    const url = middle.replace(/\+/g, '-').replace(/\//g, '_');
    plans.push({
      middles: url === middle ? [middle] : [middle, url],
      middleAt: fullFrom,
      edges,
      first,
      last,
    });
  }
  return plans;
}

export interface TextRange {
  readonly offset: number;
  readonly length: number;
}

/** Every place (up to `limit`) where `text` holds the planned needle in base64. */
export function findBase64(text: string, plans: readonly Base64Plan[], limit: number): TextRange[] {
  const found = new Map<number, TextRange>();
  for (const plan of plans) {
    for (const middle of plan.middles) {
      for (
        let p = text.indexOf(middle);
        p >= 0 && found.size < limit;
        p = text.indexOf(middle, p + 1)
      ) {
        const origin = p - plan.middleAt;
        if (origin + plan.first < 0 || origin + plan.last >= text.length) continue;
        const ok = plan.edges.every((e) => {
          const v = value(text.charCodeAt(origin + e.at));
          return v >= 0 && (v & e.mask) === e.bits;
        });
        if (ok)
          found.set(origin + plan.first, {
            offset: origin + plan.first,
            length: plan.last - plan.first + 1,
          });
      }
    }
  }
  return [...found.values()].sort((x, y) => x.offset - y.offset);
}
