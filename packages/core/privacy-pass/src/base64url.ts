/**
 * base64url (RFC 4648 §5), strict: only the URL-safe alphabet, '=' padding optional but
 * exact when present, and the unused bits of the last character must be zero, so every
 * byte string has exactly one unpadded and one padded spelling. Standard base64 ('+', '/')
 * is refused: RFC 9577 and RFC 9578 name base64url.
 */
import { PrivacyPassError } from './errors.ts';

export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** With '=' padding, as RFC 9578 §4 asks for `token-key` in the issuer directory. */
export function base64urlPadded(bytes: Uint8Array): string {
  const s = base64url(bytes);
  return s + '='.repeat((4 - (s.length % 4)) % 4);
}

export function fromBase64url(s: string): Uint8Array {
  if (typeof s !== 'string') throw new PrivacyPassError('malformed');
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d /* '=' */) end--;
  const padding = s.length - end;
  if (padding > 0 && (padding > 2 || s.length % 4 !== 0)) throw new PrivacyPassError('malformed');
  if (end % 4 === 1) throw new PrivacyPassError('malformed');
  for (let i = 0; i < end; i++) {
    if (!isBase64urlChar(s.charCodeAt(i))) throw new PrivacyPassError('malformed');
  }
  const body = s.slice(0, end);
  const bytes = Buffer.from(body, 'base64url');
  // Node ignores non-zero trailing bits; refusing them keeps the encoding canonical.
  if (bytes.toString('base64url') !== body) throw new PrivacyPassError('malformed');
  return new Uint8Array(bytes);
}

function isBase64urlChar(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // '-'
    c === 0x5f // '_'
  );
}
