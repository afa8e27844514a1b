/**
 * Key configurations, RFC 9458 §3 (https://www.rfc-editor.org/rfc/rfc9458#section-3).
 *
 *   HPKE Symmetric Algorithms {
 *     HPKE KDF ID (16),
 *     HPKE AEAD ID (16),
 *   }
 *
 *   Key Config {
 *     Key Identifier (8),
 *     HPKE KEM ID (16),
 *     HPKE Public Key (Npk * 8),
 *     HPKE Symmetric Algorithms Length (16) = 4..65532,
 *     HPKE Symmetric Algorithms (32) ...,
 *   }
 *
 * `application/ohttp-keys` (§3.2) is one or more key configurations, each prefixed with its
 * length as a 2-byte integer, concatenated. Thanks to that prefix a configuration whose KEM
 * we do not know (so whose Npk we cannot tell) is skipped, not fatal.
 */
import { OhttpError } from './errors.ts';

export interface SymmetricAlgorithm {
  readonly kdfId: number;
  readonly aeadId: number;
}

export interface KeyConfig {
  readonly keyId: number;
  readonly kemId: number;
  readonly publicKey: Uint8Array;
  readonly symmetric: readonly SymmetricAlgorithm[];
}

export const OHTTP_KEYS_MEDIA_TYPE = 'application/ohttp-keys';

/** Npk of the HPKE KEMs (RFC 9180 §7.1, draft-ietf-hpke-pq), so any listed config parses. */
const NPK: ReadonlyMap<number, number> = new Map([
  [0x0010, 65],
  [0x0011, 97],
  [0x0012, 133],
  [0x0020, 32],
  [0x0021, 56],
  [0x0040, 800],
  [0x0041, 1184],
  [0x0042, 1568],
  [0x647a, 1216],
]);

export function publicKeyLength(kemId: number): number | undefined {
  return NPK.get(kemId);
}

const u16 = (b: Uint8Array, at: number): number => ((b[at] as number) << 8) | (b[at + 1] as number);

function checkU(n: number, bits: 8 | 16, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** bits) throw new RangeError(`${what} out of range`);
}

export function encodeKeyConfig(config: KeyConfig): Uint8Array {
  checkU(config.keyId, 8, 'keyId');
  checkU(config.kemId, 16, 'kemId');
  const npk = publicKeyLength(config.kemId);
  if (npk !== undefined && npk !== config.publicKey.length)
    throw new RangeError('public key length does not match the KEM');
  if (config.symmetric.length === 0 || config.symmetric.length > 16383)
    throw new RangeError('1..16383 symmetric algorithms');
  const out = new Uint8Array(3 + config.publicKey.length + 2 + 4 * config.symmetric.length);
  out[0] = config.keyId;
  out[1] = config.kemId >> 8;
  out[2] = config.kemId & 0xff;
  out.set(config.publicKey, 3);
  let at = 3 + config.publicKey.length;
  const symLength = 4 * config.symmetric.length;
  out[at++] = symLength >> 8;
  out[at++] = symLength & 0xff;
  for (const { kdfId, aeadId } of config.symmetric) {
    checkU(kdfId, 16, 'kdfId');
    checkU(aeadId, 16, 'aeadId');
    out[at++] = kdfId >> 8;
    out[at++] = kdfId & 0xff;
    out[at++] = aeadId >> 8;
    out[at++] = aeadId & 0xff;
  }
  return out;
}

/**
 * Decodes one key configuration at `offset`. Throws OhttpError 'incomplete' when the bytes
 * end early, 'malformed' for a bad algorithms length, and 'unknown-key' for a KEM whose
 * public key length is unknown (the configuration cannot be delimited).
 */
export function decodeKeyConfig(
  bytes: Uint8Array,
  offset = 0,
): { value: KeyConfig; bytesRead: number } {
  if (bytes.length - offset < 3) throw new OhttpError('incomplete');
  const keyId = bytes[offset] as number;
  const kemId = u16(bytes, offset + 1);
  const npk = publicKeyLength(kemId);
  if (npk === undefined) throw new OhttpError('unknown-key');
  let at = offset + 3;
  if (bytes.length - at < npk + 2) throw new OhttpError('incomplete');
  const publicKey = bytes.slice(at, at + npk);
  at += npk;
  const symLength = u16(bytes, at);
  at += 2;
  if (symLength < 4 || symLength % 4 !== 0) throw new OhttpError('malformed');
  if (bytes.length - at < symLength) throw new OhttpError('incomplete');
  const symmetric: SymmetricAlgorithm[] = [];
  for (let i = 0; i < symLength; i += 4) {
    symmetric.push({ kdfId: u16(bytes, at + i), aeadId: u16(bytes, at + i + 2) });
  }
  at += symLength;
  return { value: { keyId, kemId, publicKey, symmetric }, bytesRead: at - offset };
}

/** `application/ohttp-keys`: each configuration with its 2-byte length (RFC 9458 §3.2). */
export function encodeKeys(configs: readonly KeyConfig[]): Uint8Array {
  const encoded = configs.map(encodeKeyConfig);
  const out = new Uint8Array(encoded.reduce((n, c) => n + 2 + c.length, 0));
  let at = 0;
  for (const c of encoded) {
    if (c.length > 0xffff) throw new RangeError('key configuration too long');
    out[at++] = c.length >> 8;
    out[at++] = c.length & 0xff;
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Decodes `application/ohttp-keys`. Configurations with an unknown KEM are skipped (counted
 * in `skipped`); a configuration whose content disagrees with its length prefix is
 * 'malformed'; a list that ends early is 'incomplete'; an empty list is 'malformed' (§3.2
 * says "one or more").
 */
export function decodeKeys(bytes: Uint8Array): {
  value: KeyConfig[];
  skipped: number;
  bytesRead: number;
} {
  const value: KeyConfig[] = [];
  let skipped = 0;
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 2) throw new OhttpError('incomplete');
    const length = u16(bytes, at);
    at += 2;
    if (bytes.length - at < length) throw new OhttpError('incomplete');
    const body = bytes.subarray(at, at + length);
    at += length;
    if (length >= 3 && publicKeyLength(u16(body, 1)) === undefined) {
      skipped++;
      continue;
    }
    let decoded;
    try {
      decoded = decodeKeyConfig(body);
    } catch (cause) {
      throw new OhttpError('malformed', { cause });
    }
    if (decoded.bytesRead !== length) throw new OhttpError('malformed');
    value.push(decoded.value);
  }
  if (value.length + skipped === 0) throw new OhttpError('malformed');
  return { value, skipped, bytesRead: at };
}
