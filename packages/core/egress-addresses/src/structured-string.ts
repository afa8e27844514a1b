/**
 * The one Structured Field shape the geo hints use: an Item whose bare item is a String,
 * with optional parameters (RFC 8941 §3.3.3, parsed as in §4.2). Both hint fields are that
 * shape (`Sec-CH-Geohash: "u4pruyd"`, `Sec-CH-IP-Geo: "DE"; feed="..."`).
 *
 *   sf-item     = bare-item parameters
 *   sf-string   = DQUOTE *chr DQUOTE
 *   chr         = unescaped / escaped
 *   unescaped   = %x20-21 / %x23-5B / %x5D-7E
 *   escaped     = "\" ( DQUOTE / "\" )
 *   parameters  = *( ";" *SP key [ "=" bare-item ] )
 *   key         = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )
 *
 * Parameters are checked for syntax and then dropped: neither hint defines one the egress
 * uses. Any other bare item type, a list, trailing bytes or a non-ASCII byte is a failure,
 * which RFC 8941 §4.2 says means the whole field is ignored.
 */

/** Returns the string, or undefined when the field is not a well-formed String Item. */
export function parseStringItem(field: string): string | undefined {
  const p = { s: field, i: 0 };
  skipSp(p);
  const value = parseString(p);
  if (value === undefined) return undefined;
  if (!parseParameters(p)) return undefined;
  skipSp(p);
  return p.i === p.s.length ? value : undefined;
}

/** Serializes a string as an sf-string (RFC 8941 §4.1.6); only %x20-7E may appear. */
export function serializeString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new RangeError('an sf-string holds only %x20-7E');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

interface Cursor {
  readonly s: string;
  i: number;
}

function skipSp(p: Cursor): void {
  while (p.s[p.i] === ' ') p.i++;
}

function parseString(p: Cursor): string | undefined {
  if (p.s[p.i] !== '"') return undefined;
  p.i++;
  let out = '';
  while (p.i < p.s.length) {
    const c = p.s.charCodeAt(p.i++);
    if (c === 0x5c) {
      const next = p.s[p.i++];
      if (next !== '"' && next !== '\\') return undefined;
      out += next;
    } else if (c === 0x22) {
      return out;
    } else if (c < 0x20 || c > 0x7e) {
      return undefined;
    } else {
      out += String.fromCharCode(c);
    }
  }
  return undefined;
}

const KEY = /^[a-z*][a-z0-9_.*-]*/;
const NUMBER = /^-?(?:[0-9]{1,15}(?![0-9.])|[0-9]{1,12}\.[0-9]{1,3}(?![0-9.]))/;
const TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/;
const BYTES = /^:[A-Za-z0-9+/=]*:/;
const BOOLEAN = /^\?[01]/;

function parseParameters(p: Cursor): boolean {
  while (p.s[p.i] === ';') {
    p.i++;
    skipSp(p);
    const key = KEY.exec(p.s.slice(p.i));
    if (key === null) return false;
    p.i += key[0].length;
    if (p.s[p.i] === '=') {
      p.i++;
      if (!skipBareItem(p)) return false;
    }
  }
  return true;
}

function skipBareItem(p: Cursor): boolean {
  if (p.s[p.i] === '"') return parseString(p) !== undefined;
  const rest = p.s.slice(p.i);
  for (const re of [NUMBER, TOKEN, BYTES, BOOLEAN]) {
    const m = re.exec(rest);
    if (m !== null) {
      p.i += m[0].length;
      return true;
    }
  }
  return false;
}
