/**
 * The KV key a redeemed token is recorded under: `<hex of the token key id's first 16 bytes>.
 * <base64url nonce, unpadded>`. Both parts come from the token itself (RFC 9577 §2.2): the key
 * id names the issuer key every client shares, the nonce is the client's random 32 bytes, so
 * the key says nothing about who redeemed it. Two NATS subject tokens, alphabet
 * [0-9a-f] and [A-Za-z0-9_-], both inside what NATS KV allows ([-/_=.a-zA-Z0-9]).
 *
 * The key id is cut to 16 bytes because every record carries its key in the stream: 32 hex
 * characters more per record add up over millions of records, and telling apart the few
 * live keys of one issuer needs far fewer than 128 bits.
 */
export const KEY_ID_PREFIX_BYTES = 16;

// NATS KV's own rule (@nats-io/kv validateKey): these characters, no leading or trailing dot.
const KV_KEY = /^[-/=.\w]+$/;

export function spentTokenKey(tokenKeyId: Uint8Array, nonce: Uint8Array): string {
  if (tokenKeyId.length === 0) throw new TypeError('token key id is empty');
  if (nonce.length === 0) throw new TypeError('token nonce is empty');
  const keyId = Buffer.from(
    tokenKeyId.buffer,
    tokenKeyId.byteOffset,
    Math.min(tokenKeyId.byteLength, KEY_ID_PREFIX_BYTES),
  ).toString('hex');
  const nonceText = Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength).toString(
    'base64url',
  );
  return `${keyId}.${nonceText}`;
}

/** True for a key NATS KV accepts as a literal key (no wildcard, no empty token). */
export function isKvSafeKey(key: string): boolean {
  return KV_KEY.test(key) && !key.startsWith('.') && !key.endsWith('.') && !key.includes('..');
}

export function assertKvSafeKey(key: string): void {
  if (typeof key !== 'string' || !isKvSafeKey(key)) {
    throw new TypeError('spent-token key is not a KV-safe key (use spentTokenKey)');
  }
}
