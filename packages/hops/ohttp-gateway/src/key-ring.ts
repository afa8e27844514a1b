/**
 * The gateway's key ring: every Oblivious HTTP key the egress holds, in the order clients
 * should prefer them, each with the moment it stops being accepted. The operator edits it
 * with `splitrelay-ohttp-keys` (apps/egress) and the egress re-reads it on SIGHUP.
 *
 *   { "v": 1, "keys": [ { "keyId": 2, "kem": "x25519", "privateKey": "<base64url Nsk>",
 *                         "symmetric": ["aes-128-gcm", "chacha20-poly1305"] },
 *                       { "keyId": 1, ..., "notAfter": 1800003600 } ] }
 *
 * A key with `notAfter` is retiring: no longer published (the signed entry lists only the
 * others), still accepted until that unix second so clients holding the last directory
 * finish their requests, then answered as an unknown key (RFC 9458 §5.3), which sends them
 * back to the directory. Rotation with overlap, step by step: docs/ohttp.md.
 *
 * Everything here is pure (values in, values out); key-ring-file.ts reads and writes files.
 */
import { z } from 'zod';
import {
  AEAD_AES_128_GCM,
  AEAD_CHACHA20_POLY1305,
  KDF_HKDF_SHA256,
  KEM_X25519,
  KEM_XWING,
  createSuite,
} from '@splitrelay/hpke';
import { createGateway, type GatewayKeyInput, type SymmetricAlgorithm } from '@splitrelay/ohttp';

export const KEMS = { x25519: KEM_X25519, 'x-wing': KEM_XWING } as const;
export const AEADS = {
  'aes-128-gcm': AEAD_AES_128_GCM,
  'chacha20-poly1305': AEAD_CHACHA20_POLY1305,
} as const;
export type KemName = keyof typeof KEMS;
export type AeadName = keyof typeof AEADS;

/** Nsk of each KEM: 32 bytes for X25519, the 32-byte seed for X-Wing. */
const PRIVATE_KEY_CHARS = 43;
/** One key identifier byte (RFC 9458 §3.1) gives 256; a ring this size is always a mistake. */
export const MAX_RING_KEYS = 16;

const keySchema = z.strictObject({
  keyId: z.int().min(0).max(255),
  kem: z.enum(Object.keys(KEMS) as [KemName, ...KemName[]]),
  privateKey: z
    .string()
    .length(PRIVATE_KEY_CHARS)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be unpadded base64url'),
  symmetric: z
    .array(z.enum(Object.keys(AEADS) as [AeadName, ...AeadName[]]))
    .min(1)
    .max(2)
    .refine((list) => new Set(list).size === list.length, 'must not repeat an algorithm'),
  notAfter: z.int().min(0).optional(),
});

export const keyRingSchema = z.strictObject({
  v: z.literal(1),
  keys: z
    .array(keySchema)
    .max(MAX_RING_KEYS)
    .refine(
      (keys) => new Set(keys.map((k) => k.keyId)).size === keys.length,
      'must not repeat a key identifier',
    ),
});

export type RingKey = z.output<typeof keySchema>;
export type KeyRing = z.output<typeof keyRingSchema>;

/** Parses a ring; every problem in one message (a config error, the operator's to fix). */
export function parseKeyRing(input: unknown): KeyRing {
  const result = keyRingSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`,
  );
  throw new RangeError(`ohttp key ring: ${problems.join('; ')}`);
}

const symmetricOf = (key: RingKey): SymmetricAlgorithm[] =>
  key.symmetric.map((name) => ({ kdfId: KDF_HKDF_SHA256, aeadId: AEADS[name] }));

/** The keys accepted at `nowSeconds`, for `createGateway`. */
export function liveKeys(ring: KeyRing, nowSeconds: number): GatewayKeyInput[] {
  return ring.keys
    .filter((k) => k.notAfter === undefined || nowSeconds < k.notAfter)
    .map((k) => ({
      keyId: k.keyId,
      kemId: KEMS[k.kem],
      privateKey: new Uint8Array(Buffer.from(k.privateKey, 'base64url')),
      symmetric: symmetricOf(k),
    }));
}

/** The key identifiers to publish, in order of preference: those not retiring. */
export function publishedKeyIds(ring: KeyRing): number[] {
  return ring.keys.filter((k) => k.notAfter === undefined).map((k) => k.keyId);
}

/**
 * `application/ohttp-keys` of the published keys, in order: what `sign-entry --ohttp-keys`
 * puts in the signed entry (and so what every client sees).
 */
export async function publishedKeys(ring: KeyRing): Promise<Uint8Array> {
  const published = publishedKeyIds(ring);
  if (published.length === 0) throw new RangeError('the ring has no published key');
  const byId = new Map(liveKeys(ring, 0).map((k) => [k.keyId, k] as const));
  const gateway = await createGateway({ keys: published.map((id) => byId.get(id)!) });
  return gateway.encodedKeys;
}

/** When each retiring key stops being accepted, by key id. */
export function retirements(ring: KeyRing): ReadonlyMap<number, number> {
  return new Map(
    ring.keys.flatMap((k) => (k.notAfter === undefined ? [] : [[k.keyId, k.notAfter] as const])),
  );
}

// ----- The operator's steps (each returns a new ring) -----

/** A new key, published after the current ones (so not yet preferred): step 1 of a rotation. */
export async function addKey(
  ring: KeyRing,
  kem: KemName,
  symmetric: readonly AeadName[] = ['aes-128-gcm', 'chacha20-poly1305'],
  keyId?: number,
): Promise<{ ring: KeyRing; keyId: number }> {
  const used = new Set(ring.keys.map((k) => k.keyId));
  const id = keyId ?? nextKeyId(ring);
  if (used.has(id)) throw new RangeError(`key id ${id} is already in the ring`);
  const pair = await createSuite({
    kemId: KEMS[kem],
    kdfId: KDF_HKDF_SHA256,
    aeadId: AEADS[symmetric[0] ?? 'aes-128-gcm'],
  }).generateKeyPair();
  const key: RingKey = {
    keyId: id,
    kem,
    privateKey: Buffer.from(pair.privateKeyBytes).toString('base64url'),
    symmetric: [...symmetric],
  };
  return { ring: parseKeyRing({ v: 1, keys: [...ring.keys, key] }), keyId: id };
}

/** Moves a published key to the front, so clients use it from their next directory. */
export function promoteKey(ring: KeyRing, keyId: number): KeyRing {
  const key = find(ring, keyId);
  if (key.notAfter !== undefined) throw new RangeError(`key ${keyId} is retiring`);
  return { v: 1, keys: [key, ...ring.keys.filter((k) => k.keyId !== keyId)] };
}

/** Stops publishing a key; it is still accepted until `notAfter` (unix seconds). */
export function retireKey(ring: KeyRing, keyId: number, notAfter: number): KeyRing {
  find(ring, keyId);
  const next = ring.keys.map((k) => (k.keyId === keyId ? { ...k, notAfter } : k));
  if (!next.some((k) => k.notAfter === undefined))
    throw new RangeError('retiring the last published key would leave clients none');
  return { v: 1, keys: next };
}

/** Drops keys whose window has ended. */
export function pruneKeys(ring: KeyRing, nowSeconds: number): KeyRing {
  return {
    v: 1,
    keys: ring.keys.filter((k) => k.notAfter === undefined || nowSeconds < k.notAfter),
  };
}

function find(ring: KeyRing, keyId: number): RingKey {
  const key = ring.keys.find((k) => k.keyId === keyId);
  if (key === undefined) throw new RangeError(`no key ${keyId} in the ring`);
  return key;
}

/** The lowest identifier after the highest in use (wrapping), so ids are not soon reused. */
function nextKeyId(ring: KeyRing): number {
  const used = new Set(ring.keys.map((k) => k.keyId));
  const start = ring.keys.reduce((m, k) => Math.max(m, k.keyId), -1) + 1;
  for (let i = 0; i < 256; i++) {
    const id = (start + i) % 256;
    if (!used.has(id)) return id;
  }
  throw new RangeError('no free key identifier');
}
