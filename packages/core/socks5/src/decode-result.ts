/**
 * What every decoder returns: a value and how many bytes it used, or "incomplete" when the
 * buffer is a strict prefix of a valid message. Invalid input throws `Socks5Error` instead,
 * as soon as the first wrong byte is seen.
 */
export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T; readonly bytesRead: number }
  | { readonly ok: false; readonly incomplete: true };

export const incomplete: { readonly ok: false; readonly incomplete: true } = Object.freeze({
  ok: false,
  incomplete: true,
});

export function decoded<T>(value: T, bytesRead: number): DecodeResult<T> {
  return { ok: true, value, bytesRead };
}
