/**
 * TLS key pins in the style of RFC 7469 §2.4: base64 of the SHA-256 of the certificate's
 * DER SubjectPublicKeyInfo. Pinning the key rather than the certificate lets an egress
 * renew its certificate without a new directory entry, as long as the key stays.
 */
import { Buffer } from 'node:buffer';
import { X509Certificate, createHash } from 'node:crypto';

const PIN_BYTES = 32;

/** The pin of a certificate given as PEM, DER or an already parsed X509Certificate. */
export function spkiPin(cert: string | Uint8Array | X509Certificate): string {
  const x509 = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** True for exactly the strings `spkiPin` can return (44 characters, canonical padding). */
export function isSpkiPin(value: string): boolean {
  if (value.length !== 44) return false;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === PIN_BYTES && bytes.toString('base64') === value;
}
