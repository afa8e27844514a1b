/**
 * The egress's Oblivious HTTP key configurations in its signed entry: `ohttpKeys` is the
 * unpadded base64url of an `application/ohttp-keys` body (RFC 9458 §3.2), exactly as the
 * gateway serves it. Putting it in the signed entry is what gives key consistency (RFC 9458
 * §7): every client verifies the same operator signature over the same bytes, so an ingress
 * cannot hand one client a key of its own to tag that client's requests.
 *
 *   application/ohttp-keys = 1* ( Length (16), Key Config (Length * 8) )
 *   Key Config             = Key Identifier (8), HPKE KEM ID (16), HPKE Public Key (..),
 *                            HPKE Symmetric Algorithms Length (16), ... (RFC 9458 §3.1)
 *
 * The directory checks only the framing here (each length fits, key identifiers differ, the
 * list is bounded): the ingress, which serves these bytes, must not carry an OHTTP decoder
 * (tools/architecture), and clients decode every configuration fully before using one.
 */
import { Buffer } from 'node:buffer';

/** Unpadded base64url in its one spelling, as envelope.ts reads it (not imported: it imports entry.ts). */
function decodeBase64url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/**
 * Decoded bytes at most: six X-Wing configurations (1,231 bytes each with their prefix), or
 * any mix of X25519 ones, for two keys in service plus their successors during an overlap.
 */
export const MAX_OHTTP_KEYS_BYTES = 8192;

/** Key identifier, KEM ID, a public key of at least one byte, and one symmetric pair. */
const MIN_KEY_CONFIG_BYTES = 1 + 2 + 1 + 2 + 4;

/** Why `ohttpKeys` is refused, or undefined when its framing is sound. */
export function ohttpKeysProblem(text: string): string | undefined {
  const bytes = decodeBase64url(text);
  if (bytes === undefined) return 'must be unpadded base64url in its one spelling';
  if (bytes.length === 0 || bytes.length > MAX_OHTTP_KEYS_BYTES)
    return `must decode to 1-${MAX_OHTTP_KEYS_BYTES} bytes`;
  const keyIds = new Set<number>();
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) return 'a key configuration length is cut short';
    const length = bytes.readUInt16BE(at);
    if (length < MIN_KEY_CONFIG_BYTES) return 'a key configuration is too short';
    if (at + 2 + length > bytes.length) return 'a key configuration is cut short';
    const keyId = bytes[at + 2] as number;
    if (keyIds.has(keyId)) return 'must not repeat a key identifier';
    keyIds.add(keyId);
    at += 2 + length;
  }
  return undefined;
}

/** The `application/ohttp-keys` bytes of an entry's field (already checked by the schema). */
export function ohttpKeysBytes(text: string): Uint8Array {
  const bytes = decodeBase64url(text);
  if (bytes === undefined) throw new TypeError('ohttpKeys is not base64url');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Key identifiers listed in an entry's field, in order (for logs and the operator's tools). */
export function ohttpKeyIds(text: string): number[] {
  const bytes = ohttpKeysBytes(text);
  const ids: number[] = [];
  for (let at = 0; at + 2 < bytes.length; at += 2 + ((bytes[at]! << 8) | bytes[at + 1]!)) {
    ids.push(bytes[at + 2]!);
  }
  return ids;
}
