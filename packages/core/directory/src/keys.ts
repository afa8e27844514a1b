/**
 * Operator keys: Ed25519, named by a key id that anyone holding the public key can
 * recompute, so a configured kid can be checked against the key it names.
 */
import { createHash, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';

/** Public keys an entry may be signed with, by key id: KeyObjects or SPKI PEM strings. */
export type TrustedKeys = ReadonlyMap<string, KeyObject> | Readonly<Record<string, string>>;

export interface OperatorKey {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  readonly kid: string;
}

/** First 16 hex digits of the SHA-256 of the public key's DER SubjectPublicKeyInfo. */
export function keyIdOf(publicKey: KeyObject | string): string {
  let key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  if (key.type === 'private') key = createPublicKey(key);
  const spki = key.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex').slice(0, 16);
}

export function generateOperatorKey(): OperatorKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    kid: keyIdOf(publicKey),
  };
}

function checkedPublicKey(kid: string, key: KeyObject): KeyObject {
  // A private key here would mean signing material sits in a verifier's configuration.
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`trusted key "${kid}" is not an Ed25519 public key`);
  }
  return key;
}

/**
 * Normalises trusted keys once, so a bad configured key fails loudly as a configuration
 * error (TypeError) instead of quietly turning every entry it signed into a rejection.
 */
export function trustedKeyMap(keys: TrustedKeys): ReadonlyMap<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  if (keys instanceof Map) {
    for (const [kid, key] of keys as ReadonlyMap<string, KeyObject>) {
      out.set(kid, checkedPublicKey(kid, key));
    }
    return out;
  }
  for (const [kid, pem] of Object.entries(keys as Readonly<Record<string, string>>)) {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (err) {
      throw new TypeError(`trusted key "${kid}" is not a PEM public key`, { cause: err });
    }
    out.set(kid, checkedPublicKey(kid, key));
  }
  return out;
}
