/**
 * SplitRelay's batch framing, so a client gets N tokens in one round trip (a SplitRelay
 * extension, not an RFC; draft-ietf-privacypass-batched-tokens defines a richer, typed
 * format). The same framing as apps/issuer's, so either side may use this one:
 *
 *   application/private-token-request-batch:
 *     struct { uint16 length; opaque token_request[length]; } items[..];   // one or more
 *   application/private-token-response-batch:
 *     struct { uint16 length; opaque token_response[length]; } items[..];  // same order
 *
 * Items are RFC 9578 TokenRequest / TokenResponse messages, unchanged.
 */
import { PrivacyPassError } from './errors.ts';
import { copyBytes, readU16 } from './bytes.ts';

export const BATCH_MEDIA_TYPES = Object.freeze({
  requestBatch: 'application/private-token-request-batch',
  responseBatch: 'application/private-token-response-batch',
} as const);

const MAX_ITEM_BYTES = 0xffff;

export function encodeTokenBatch(items: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const item of items) {
    if (item.length === 0 || item.length > MAX_ITEM_BYTES) throw new PrivacyPassError('malformed');
    total += 2 + item.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const item of items) {
    out[offset] = item.length >>> 8;
    out[offset + 1] = item.length & 0xff;
    out.set(item, offset + 2);
    offset += 2 + item.length;
  }
  return out;
}

/**
 * The items of a batch body: 'malformed' unless it is exactly a sequence of non-empty
 * items, 'too-large' past `maxItems` (checked as the items are read, before the rest).
 */
export function decodeTokenBatch(body: Uint8Array, maxItems: number): Uint8Array[] {
  if (body.length === 0) throw new PrivacyPassError('malformed');
  const items: Uint8Array[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (body.length - offset < 2) throw new PrivacyPassError('malformed');
    const length = readU16(body, offset);
    offset += 2;
    if (length === 0 || body.length - offset < length) throw new PrivacyPassError('malformed');
    if (items.length >= maxItems) throw new PrivacyPassError('too-large');
    items.push(copyBytes(body, offset, offset + length));
    offset += length;
  }
  return items;
}
