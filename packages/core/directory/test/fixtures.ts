/** Shared test fixtures: a known-good entry and an independent signer for raw payloads. */
import { Buffer } from 'node:buffer';
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { generateOperatorKey, type Entry, type SignedEntry } from '../src/index.ts';

export const NOW = 1_800_000_000;

export function pinOf(label: string): string {
  return createHash('sha256').update(label).digest('base64');
}

export function operator(): {
  kid: string;
  privateKey: KeyObject;
  publicKeyPem: string;
  trusted: Readonly<Record<string, string>>;
} {
  const key = generateOperatorKey();
  return {
    kid: key.kid,
    privateKey: createPrivateKey(key.privateKeyPem),
    publicKeyPem: key.publicKeyPem,
    trusted: { [key.kid]: key.publicKeyPem },
  };
}

export function entryFor(
  kid: string,
  overrides: Partial<Record<keyof Entry, unknown>> = {},
): Entry {
  return {
    v: 1,
    id: 'edge-fra-1',
    operator: kid,
    endpoint: 'egress1.cdn.example:8443',
    region: 'eu-central',
    tlsPins: [pinOf('a')],
    notBefore: NOW - 3600,
    notAfter: NOW + 3600,
    version: 1,
    ...overrides,
  } as Entry;
}

/**
 * Signs arbitrary payload bytes the way the wire format says, written apart from the
 * package, so tests can build entries that signEntry itself would refuse to make.
 */
export function rawSign(
  payload: Uint8Array | string,
  privateKey: KeyObject,
  kid: string,
): SignedEntry {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const context = Buffer.from('splitrelay-directory-entry-v1\0', 'latin1');
  const sig = sign(null, Buffer.concat([context, bytes]), privateKey);
  return { payload: bytes.toString('base64url'), sig: sig.toString('base64url'), kid };
}
