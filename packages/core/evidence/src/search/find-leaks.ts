/**
 * The leak search: every identity, in every form `forms.ts` knows, in every haystack.
 * A finding names what leaked (the identity), how (form and encoding), where (haystack
 * and byte offset) and shows a printable window around it, so a failing verdict points at
 * the bytes.
 */
import { asBuffer, printable } from '../bytes.ts';
import { expandIdentity } from './forms.ts';
import { describeIdentity, type Identity } from './identity.ts';
import { findBase64, planBase64 } from './base64-match.ts';
import type { Encoding, Needle } from './needle.ts';

export interface Finding {
  /** The identity's label, or a description such as `address 192.0.2.7`. */
  readonly identity: string;
  readonly identityKind: Identity['kind'];
  /** Which spelling: `dotted-quad`, `rfc5952`, `ipv4+port`, `proxy-v2-src:ipv6`, … */
  readonly form: string;
  readonly encoding: Encoding;
  readonly haystack: string;
  /** Byte offset of the match in the haystack, and its length in bytes. */
  readonly offset: number;
  readonly length: number;
  /** The match and `contextBytes` either side, non-printable bytes as '.'. */
  readonly context: string;
}

export interface LeakSearchOptions {
  /** Bytes of context either side of a match. Default 40. */
  readonly contextBytes?: number;
  /** Findings kept per needle and haystack (the first ones). Default 16. */
  readonly maxFindingsPerNeedle?: number;
  /**
   * What the party may see even though it contains a needle, e.g. `egress-1:443` at an
   * ingress whose target port is also 443. A match inside an occurrence of one is dropped.
   */
  readonly allow?: readonly (string | Uint8Array)[];
  /** Only these encodings (default: all). Base64 costs a latin1 copy of each haystack. */
  readonly encodings?: readonly Encoding[];
}

export type Haystacks = Readonly<Record<string, Uint8Array | string>>;

class Prepared {
  readonly bytes: Buffer;
  #lower: Buffer | undefined;
  #latin1: string | undefined;

  constructor(data: Uint8Array | string) {
    this.bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : asBuffer(data);
  }

  /** ASCII letters lowered; every other byte as is, so offsets do not move. */
  get lower(): Buffer {
    if (!this.#lower) {
      const out = Buffer.allocUnsafe(this.bytes.length);
      for (let i = 0; i < out.length; i++) {
        const c = this.bytes[i] as number;
        out[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      }
      this.#lower = out;
    }
    return this.#lower;
  }

  /** One character per byte, so string offsets are byte offsets. */
  get latin1(): string {
    this.#latin1 ??= this.bytes.toString('latin1');
    return this.#latin1;
  }
}

interface Range {
  readonly offset: number;
  readonly length: number;
}

function runNeedle(needle: Needle, h: Prepared, limit: number): Range[] {
  const out: Range[] = [];
  switch (needle.type) {
    case 'bytes': {
      const hay = needle.caseInsensitive ? h.lower : h.bytes;
      const n = needle.bytes;
      for (let at = hay.indexOf(n); at >= 0 && out.length < limit; at = hay.indexOf(n, at + 1)) {
        if (!needle.boundary || needle.boundary(hay, at, at + n.length))
          out.push({ offset: at, length: n.length });
      }
      return out;
    }
    case 'gapped': {
      const hay = h.bytes;
      const total = needle.head.length + needle.gap + needle.tail.length;
      for (
        let at = hay.indexOf(needle.head);
        at >= 0 && out.length < limit;
        at = hay.indexOf(needle.head, at + 1)
      ) {
        const tailAt = at + needle.head.length + needle.gap;
        if (tailAt + needle.tail.length > hay.length) break;
        if (hay.subarray(tailAt, tailAt + needle.tail.length).equals(needle.tail))
          out.push({ offset: at, length: total });
      }
      return out;
    }
    case 'base64':
      return findBase64(h.latin1, planBase64(needle.bytes), limit);
    case 'pattern': {
      needle.regex.lastIndex = 0;
      for (const m of h.latin1.matchAll(needle.regex)) {
        if (out.length >= limit) break;
        const group = m[1] ?? m[0];
        out.push({ offset: (m.index ?? 0) + m[0].length - group.length, length: group.length });
      }
      return out;
    }
  }
}

function allowedRanges(h: Prepared, allow: readonly (string | Uint8Array)[]): Range[] {
  const out: Range[] = [];
  for (const a of allow) {
    const n = typeof a === 'string' ? Buffer.from(a, 'utf8') : asBuffer(a);
    if (n.length === 0) continue;
    for (let at = h.bytes.indexOf(n); at >= 0; at = h.bytes.indexOf(n, at + 1))
      out.push({ offset: at, length: n.length });
  }
  return out;
}

const inside = (r: Range, outer: Range): boolean =>
  r.offset >= outer.offset && r.offset + r.length <= outer.offset + outer.length;

export function findLeaks(
  haystacks: Haystacks,
  identities: readonly Identity[],
  options: LeakSearchOptions = {},
): Finding[] {
  const contextBytes = options.contextBytes ?? 40;
  const limit = options.maxFindingsPerNeedle ?? 16;
  const expanded = identities.map((identity) => ({
    identity,
    name: describeIdentity(identity),
    needles: expandIdentity(identity).filter(
      (n) => options.encodings?.includes(n.encoding) ?? true,
    ),
  }));
  const findings: Finding[] = [];
  for (const [haystack, data] of Object.entries(haystacks)) {
    const h = new Prepared(data);
    const allowed = allowedRanges(h, options.allow ?? []);
    for (const { identity, name, needles } of expanded) {
      const hits: (Range & { needle: Needle })[] = [];
      for (const needle of needles) {
        for (const r of runNeedle(needle, h, limit)) {
          if (!allowed.some((a) => inside(r, a))) hits.push({ ...r, needle });
        }
      }
      // One leak, one finding: a match inside a longer match of the same identity (the
      // dotted quad inside `::ffff:a.b.c.d`, 4 raw bytes inside the mapped 16) is dropped.
      hits.sort((x, y) => y.length - x.length || x.offset - y.offset);
      const kept: typeof hits = [];
      for (const hit of hits) if (!kept.some((k) => inside(hit, k))) kept.push(hit);
      kept.sort((x, y) => x.offset - y.offset);
      for (const hit of kept) {
        const from = Math.max(0, hit.offset - contextBytes);
        const to = Math.min(h.bytes.length, hit.offset + hit.length + contextBytes);
        findings.push({
          identity: name,
          identityKind: identity.kind,
          form: hit.needle.form,
          encoding: hit.needle.encoding,
          haystack,
          offset: hit.offset,
          length: hit.length,
          context: printable(h.bytes.subarray(from, to)),
        });
      }
    }
  }
  return findings;
}
