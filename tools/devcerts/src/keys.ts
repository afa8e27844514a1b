/** ECDSA P-256 keys: accepted by Node, curl and OpenSSL alike, and quick to make. */
import {
  createPrivateKey,
  KeyObject,
  X509Certificate,
  type webcrypto as nodeWebcrypto,
} from 'node:crypto';
import { webcrypto } from './x509.ts';

export const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

export async function generateKeys(): Promise<nodeWebcrypto.CryptoKeyPair> {
  // Extractable so the private key can be written out as PKCS#8 PEM.
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

export function privateKeyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Imports an issuing CA's PEM key, after checking it belongs to the CA's certificate. */
export function importSigningKey(keyPem: string, certPem: string): CryptoKey {
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError('the CA key must be an ECDSA P-256 private key');
  }
  if (!new X509Certificate(certPem).checkPrivateKey(key)) {
    throw new TypeError('the CA key does not belong to the CA certificate');
  }
  return key.toCryptoKey(KEY_ALGORITHM, false, ['sign']);
}
