/**
 * The signed form of an entry: the signed envelope (envelope.ts) with the context
 * "splitrelay-directory-entry-v1" 0x00, and a payload that must name the signing key as its
 * operator.
 */
import type { KeyObject } from 'node:crypto';
import { describeIssues, parseEntry, type Entry } from './entry.ts';
import {
  openDocument,
  signDocument,
  signatureContext,
  checkWindow,
  signedEnvelopeSchema,
  unverifiedPayload,
  type SignedEnvelope,
} from './envelope.ts';
import { DirectoryError } from './errors.ts';
import { trustedKeyMap, type TrustedKeys } from './keys.ts';

export const SIGNATURE_CONTEXT: Uint8Array = signatureContext('directory-entry');

export const signedEntrySchema = signedEnvelopeSchema;
export type SignedEntry = SignedEnvelope;

function parsed(input: unknown): Entry {
  const result = parseEntry(input);
  if (!result.ok) {
    throw new DirectoryError('malformed', `entry is malformed: ${describeIssues(result.error)}`);
  }
  return result.entry;
}

/** Checks the entry, then signs its JSON bytes with an Ed25519 operator key. */
export function signEntry(entry: Entry, privateKey: KeyObject, kid: string): SignedEntry {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('privateKey must be an Ed25519 private key');
  }
  const checked = parsed(entry);
  if (checked.operator !== kid) {
    throw new DirectoryError('operator-mismatch', 'entry operator differs from the signing key id');
  }
  return signDocument(SIGNATURE_CONTEXT, checked, privateKey, kid, 'entry');
}

/**
 * Verifies a signed entry against the trusted operator keys at `now` (unix seconds) and
 * returns the frozen entry, or throws a DirectoryError saying why not. A TypeError means
 * the caller's own arguments (trusted keys, now) are wrong, not the entry.
 */
export function verifyEntry(signed: unknown, trustedKeys: TrustedKeys, now: number): Entry {
  return verifyWithKeys(signed, trustedKeyMap(trustedKeys), now);
}

/** verifyEntry for keys already normalised (verifyDirectory does it once per file). */
export function verifyWithKeys(
  signed: unknown,
  keys: ReadonlyMap<string, KeyObject>,
  now: number,
): Entry {
  const { kid, value } = openDocument(SIGNATURE_CONTEXT, signed, keys, 'entry');
  const entry = parsed(value);
  // Otherwise operator A's key could vouch for an entry that claims operator B.
  if (entry.operator !== kid) {
    throw new DirectoryError('operator-mismatch', 'entry operator differs from the signing key id');
  }
  checkWindow(entry, now, 'entry');
  return entry;
}

/**
 * The egress id a signed entry claims, read WITHOUT verifying it: only for picking an entry
 * out of a file (the publisher's own, or the one to replace), never for trusting one.
 */
export function claimedEntryId(signed: unknown): string | undefined {
  const id = (unverifiedPayload(signed) as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}
