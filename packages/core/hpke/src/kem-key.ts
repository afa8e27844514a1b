/**
 * The key objects the node:crypto KEMs hand to the `hpke` library. The library only reads
 * `algorithm.name`, `extractable` and `type` (its `Key` interface); the key material lives in
 * a module-private WeakMap, so it is neither enumerable nor reachable from outside this
 * package, and a private key is imported into OpenSSL exactly once, when it is deserialized.
 */
import type { KeyObject } from 'node:crypto';
import type { Key } from 'hpke';

export interface KemKeyMaterial {
  /** SerializePublicKey of this key (for a private key: of its public half). */
  readonly publicBytes: Uint8Array;
  /** SerializePrivateKey, present on private keys only. */
  readonly privateBytes?: Uint8Array;
  /** The X25519 part (the whole key for DHKEM). */
  readonly x25519?: KeyObject;
  /** The ML-KEM-768 part. */
  readonly mlkem?: KeyObject;
  /** For X-Wing private keys: the X25519 public key bytes the combiner hashes. */
  readonly x25519Public?: Uint8Array;
}

export class NodeKemKey implements Key {
  readonly algorithm: { readonly name: string };
  readonly extractable: boolean;
  readonly type: 'public' | 'private';

  constructor(name: string, type: 'public' | 'private', extractable: boolean) {
    this.algorithm = Object.freeze({ name });
    this.type = type;
    this.extractable = extractable;
    Object.freeze(this);
  }
}

const materials = new WeakMap<Key, KemKeyMaterial>();

export function makeKey(
  name: string,
  type: 'public' | 'private',
  extractable: boolean,
  material: KemKeyMaterial,
): NodeKemKey {
  const key = new NodeKemKey(name, type, extractable);
  materials.set(key, material);
  return key;
}

/** The material behind `key`, or a TypeError if it is not one of ours for `name`. */
export function materialOf(key: Key, name: string): KemKeyMaterial {
  const material = materials.get(key);
  if (material === undefined || key.algorithm.name !== name) {
    throw new TypeError(`not a ${name} key from @splitrelay/hpke`);
  }
  return material;
}
