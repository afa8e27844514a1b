/**
 * Method negotiation, RFC 1928 §3.
 *
 * Greeting, client → server:          Method selection, server → client:
 *   +-----+----------+----------+       +-----+--------+
 *   | VER | NMETHODS | METHODS  |       | VER | METHOD |
 *   +-----+----------+----------+       +-----+--------+
 *   |  1  |    1     | 1 to 255 |       |  1  |   1    |
 *   +-----+----------+----------+       +-----+--------+
 *   VER = X'05'
 */
import { Socks5Error } from './codes.ts';
import { decoded, incomplete, type DecodeResult } from './decode-result.ts';

export const SOCKS_VERSION = 0x05;

export interface Greeting {
  readonly methods: readonly number[];
}

function checkVersion(buf: Uint8Array): void {
  if (buf[0] !== SOCKS_VERSION) throw new Socks5Error('malformed-request', 'not SOCKS version 5');
}

function checkByte(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new Socks5Error('malformed-request', `${what} must be one byte`);
  }
}

export function decodeGreeting(buf: Uint8Array): DecodeResult<Greeting> {
  if (buf.length < 1) return incomplete;
  checkVersion(buf);
  if (buf.length < 2) return incomplete;
  const n = buf[1] as number;
  if (n === 0) throw new Socks5Error('malformed-request', 'greeting offers no methods');
  if (buf.length < 2 + n) return incomplete;
  return decoded({ methods: Array.from(buf.subarray(2, 2 + n)) }, 2 + n);
}

export function encodeGreeting(greeting: Greeting): Uint8Array {
  const { methods } = greeting;
  if (methods.length === 0 || methods.length > 255) {
    throw new Socks5Error('malformed-request', 'a greeting offers 1 to 255 methods');
  }
  methods.forEach((m) => checkByte(m, 'a method'));
  return Uint8Array.of(SOCKS_VERSION, methods.length, ...methods);
}

export function decodeMethodSelection(buf: Uint8Array): DecodeResult<{ readonly method: number }> {
  if (buf.length < 1) return incomplete;
  checkVersion(buf);
  if (buf.length < 2) return incomplete;
  return decoded({ method: buf[1] as number }, 2);
}

export function encodeMethodSelection(method: number): Uint8Array {
  checkByte(method, 'a method');
  return Uint8Array.of(SOCKS_VERSION, method);
}
