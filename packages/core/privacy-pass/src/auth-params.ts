/**
 * The RFC 9110 §11 authentication framework grammar, as one linear scan:
 *
 *   WWW-Authenticate = #challenge            ; Proxy-Authenticate likewise
 *   challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param  = token BWS "=" BWS ( token / quoted-string )
 *   token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 *   #rule       : elements separated by OWS "," OWS, empty elements allowed (§5.6.1)
 *
 * A comma separates both the params of one challenge and the challenges of a list: an
 * element of the form `token BWS "="` is a param of the current challenge, any other is a
 * new challenge. Scheme and param names come back lowercased (they are case-insensitive).
 *
 * One leniency: an unquoted token value may end in '=' characters. That is base64url padding
 * written without quotes, and it cannot be read any other way.
 *
 * The scan never backtracks more than the one element it is reading, so its cost is linear
 * in the input; any syntax error throws PrivacyPassError('malformed').
 */
import { PrivacyPassError } from './errors.ts';

export interface AuthChallenge {
  /** Lowercased auth-scheme. */
  readonly scheme: string;
  readonly token68: string | undefined;
  /** In order of appearance; names lowercased, values unquoted. Duplicates are kept. */
  readonly params: ReadonlyArray<readonly [name: string, value: string]>;
}

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

const tcharTable = (() => {
  const t = new Uint8Array(128);
  for (const ch of "!#$%&'*+-.^_`|~") t[ch.charCodeAt(0)] = 1;
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  return t;
})();

function isTchar(c: number): boolean {
  return c < 128 && tcharTable[c] === 1;
}

function isToken68Char(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e ||
    c === 0x2b ||
    c === 0x2f
  );
}

function malformed(): never {
  throw new PrivacyPassError('malformed');
}

class Scanner {
  pos = 0;
  readonly s: string;

  constructor(s: string) {
    this.s = s;
  }
  get done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : -1;
  }
  skipOws(): void {
    let c = this.peek();
    while (c === SP || c === HTAB) {
      this.pos++;
      c = this.peek();
    }
  }
  token(): string {
    const start = this.pos;
    while (isTchar(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }
  /** RFC 9110 §5.6.4 quoted-string, the opening DQUOTE already seen at `pos`. */
  quotedString(): string {
    this.pos++; // opening DQUOTE
    let out = '';
    let runStart = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === -1) malformed(); // unterminated
      if (c === DQUOTE) {
        out += this.s.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c === BACKSLASH) {
        out += this.s.slice(runStart, this.pos);
        this.pos++;
        const escaped = this.peek();
        if (!isQuotedPairChar(escaped)) malformed();
        out += String.fromCharCode(escaped);
        this.pos++;
        runStart = this.pos;
        continue;
      }
      if (!isQdtext(c)) malformed();
      this.pos++;
    }
  }
  /** After an element: OWS, then a comma or the end. */
  endOfElement(): void {
    this.skipOws();
    if (this.done) return;
    if (this.peek() !== COMMA) malformed();
  }
}

function isQdtext(c: number): boolean {
  return (
    c === HTAB ||
    c === SP ||
    c === 0x21 ||
    (c >= 0x23 && c <= 0x5b) ||
    (c >= 0x5d && c <= 0x7e) ||
    (c >= 0x80 && c <= 0xff)
  );
}

function isQuotedPairChar(c: number): boolean {
  return c === HTAB || c === SP || (c >= 0x21 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

/**
 * Tries `token BWS "=" BWS ( token / quoted-string )` at the scanner's position. On success
 * returns the param and leaves the scanner after it; otherwise restores the position and
 * returns undefined (the caller then reads a token68 or a new scheme).
 */
function tryParam(sc: Scanner): readonly [string, string] | undefined {
  const start = sc.pos;
  const name = sc.token();
  if (name.length === 0) return undefined;
  sc.skipOws();
  if (sc.peek() !== EQUALS) {
    sc.pos = start;
    return undefined;
  }
  sc.pos++;
  sc.skipOws();
  const c = sc.peek();
  if (c === DQUOTE) return [name.toLowerCase(), sc.quotedString()];
  if (isTchar(c)) {
    const valueStart = sc.pos;
    sc.token();
    while (sc.peek() === EQUALS) sc.pos++; // unquoted base64url padding
    return [name.toLowerCase(), sc.s.slice(valueStart, sc.pos)];
  }
  sc.pos = start;
  return undefined;
}

interface MutableChallenge {
  scheme: string;
  token68: string | undefined;
  params: Array<readonly [string, string]>;
}

/** Parses a challenge list (`WWW-Authenticate`, `Proxy-Authenticate`) or one credentials value. */
export function parseAuthHeader(value: string): AuthChallenge[] {
  const sc = new Scanner(value);
  const out: MutableChallenge[] = [];
  let current: MutableChallenge | undefined;
  for (;;) {
    sc.skipOws();
    if (sc.done) break;
    if (sc.peek() === COMMA) {
      sc.pos++;
      continue;
    }
    // An element: a param of the current challenge, or a new challenge.
    if (current !== undefined && current.token68 === undefined) {
      const param = tryParam(sc);
      if (param !== undefined) {
        current.params.push(param);
        sc.endOfElement();
        continue;
      }
    }
    const scheme = sc.token();
    if (scheme.length === 0) malformed();
    current = { scheme: scheme.toLowerCase(), token68: undefined, params: [] };
    out.push(current);
    const c = sc.peek();
    if (c === -1 || c === COMMA) continue;
    if (c !== SP) malformed(); // RFC 9110: 1*SP between scheme and what follows
    sc.skipOws();
    if (sc.done || sc.peek() === COMMA) continue;
    const param = tryParam(sc);
    if (param !== undefined) {
      current.params.push(param);
    } else {
      const start = sc.pos;
      while (isToken68Char(sc.peek())) sc.pos++;
      if (sc.pos === start) malformed();
      while (sc.peek() === EQUALS) sc.pos++;
      current.token68 = sc.s.slice(start, sc.pos);
    }
    sc.endOfElement();
  }
  return out;
}
