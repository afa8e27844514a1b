/**
 * A needle is one spelling of an identity, in one encoding, with the rule that finds it.
 * `forms.ts` makes them; `find-leaks.ts` runs them.
 */

/** How the identity's bytes are carried in the haystack. */
export type Encoding =
  /** ASCII text, as a relay writes it in a log line, a header or a URL. */
  | 'text'
  /** Text inside a URL with `:` (and other reserved characters) percent-encoded. */
  | 'percent'
  /** Binary in network byte order, as in a socket address, SOCKS5 or a PROXY v2 header. */
  | 'raw'
  /** Hex digits of the raw bytes, lower or upper case. */
  | 'hex'
  /** Base64 or base64url text holding the bytes (of a raw or a text form) at any alignment. */
  | 'base64'
  /** DNS wire format: length-prefixed labels (RFC 1035 §3.1). */
  | 'dns-wire';

/** Says whether the match at [start, end) stands alone (not part of a longer token). */
export type Boundary = (hay: Uint8Array, start: number, end: number) => boolean;

interface NeedleBase {
  /** Which spelling: 'dotted-quad', 'rfc5952', 'addr-port', 'proxy-v2-src', … */
  readonly form: string;
  readonly encoding: Encoding;
}

export type Needle =
  | (NeedleBase & {
      readonly type: 'bytes';
      readonly bytes: Uint8Array;
      /** ASCII letters match either case; the haystack is searched lowered. */
      readonly caseInsensitive: boolean;
      readonly boundary?: Boundary;
    })
  | (NeedleBase & {
      /** `head`, then `gap` bytes of anything, then `tail`: a PROXY v2 address block. */
      readonly type: 'gapped';
      readonly head: Uint8Array;
      readonly gap: number;
      readonly tail: Uint8Array;
    })
  | (NeedleBase & {
      /** Bytes looked for inside base64 text at each of the three byte alignments. */
      readonly type: 'base64';
      readonly bytes: Uint8Array;
    })
  | (NeedleBase & {
      /** A pattern over the haystack read as latin1; the match is capture group 1. */
      readonly type: 'pattern';
      readonly regex: RegExp;
    });

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined): boolean =>
  c !== undefined && (isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));
const isLabelChar = (c: number | undefined): boolean =>
  c !== undefined &&
  (isDigit(c) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f);
const DOT = 0x2e;
const COLON = 0x3a;

/** What may stand right before a match (`start` is its first byte). */
export type StartRule = (hay: Uint8Array, start: number) => boolean;
/** What may stand right after a match (`end` is one past its last byte). */
export type EndRule = (hay: Uint8Array, end: number) => boolean;

export function boundary(start: StartRule, end: EndRule): Boundary {
  return (hay, s, e) => start(hay, s) && end(hay, e);
}

/** Numbers and dotted quads: no digit (or `digit.`) right before. */
export const numericStart: StartRule = (hay, s) =>
  !isDigit(hay[s - 1]) && !(hay[s - 1] === DOT && isDigit(hay[s - 2]));
/** No digit, nor `.digit`, right after: `1.2.3.4` is not in `1.2.3.45` or `1.2.3.4.5`. */
export const numericEnd: EndRule = (hay, e) =>
  !isDigit(hay[e]) && !(hay[e] === DOT && isDigit(hay[e + 1]));

/** IPv6 text: no hex digit or `:` right before, so `::1` is not found in `fe80::1`. */
export const ipv6Start: StartRule = (hay, s) => !isHex(hay[s - 1]) && hay[s - 1] !== COLON;
export const ipv6End: EndRule = (hay, e) =>
  !isHex(hay[e]) && hay[e] !== COLON && !(hay[e] === DOT && isDigit(hay[e + 1]));

/**
 * DNS names: no label character right before (a dot before is a subdomain of the name,
 * which still names it) and none after, nor `.label` after (a longer name, not this one).
 */
export const nameStart: StartRule = (hay, s) => !isLabelChar(hay[s - 1]);
export const nameEnd: EndRule = (hay, e) =>
  !isLabelChar(hay[e]) && !(hay[e] === DOT && isLabelChar(hay[e + 1]));

/** A literal, a bracket or a form that carries its own delimiters: anything may touch it. */
export const anyStart: StartRule = () => true;

/** Port digits end the match: `:443` is not in `:4433`. */
export const portEnd: EndRule = (hay, e) => !isDigit(hay[e]);

/**
 * The end of a name in DNS wire format: the root label (0), a compression pointer
 * (RFC 1035 §4.1.4) or the end of the data; any other byte starts a longer name.
 */
export const dnsWireEnd: EndRule = (hay, e) => {
  const next = hay[e];
  return next === undefined || next === 0 || (next & 0xc0) === 0xc0;
};
