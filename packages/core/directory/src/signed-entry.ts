/**
 * The signed form of an entry, the same on every transport (a file today, NATS later):
 *
 *   SignedEntry = { payload: base64url(entry JSON bytes),
 *                   sig: base64url(Ed25519(key, CONTEXT || entry JSON bytes)),
 *                   kid: operator key id }
 *   CONTEXT     = "splitrelay-directory-entry-v1" 0x00
 *
 * The signature covers the exact payload bytes, so no JSON canonicalisation is needed, and
 * the context keeps the key from vouching for anything else it might ever sign. A verifier
 * checks the signature before it parses a single byte of the payload.
 */
import { Buffer } from 'node:buffer';
import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { describeIssues, keyIdSchema, parseEntry, type Entry } from './entry.ts';
import { DirectoryError, badSignature } from './errors.ts';
import { trustedKeyMap, type TrustedKeys } from './keys.ts';

export const SIGNATURE_CONTEXT: Uint8Array = Buffer.from(
  'splitrelay-directory-entry-v1\0',
  'latin1',
);
/** Bounds the work a hostile entry can cause; real entries are a few hundred bytes. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;
const SIGNATURE_BYTES = 64;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export const signedEntrySchema = z.strictObject({
  payload: z
    .string()
    .min(1)
    .max(Math.ceil((MAX_PAYLOAD_BYTES * 4) / 3)),
  sig: z.string().length(Math.ceil((SIGNATURE_BYTES * 4) / 3)),
  kid: keyIdSchema,
});

export type SignedEntry = z.output<typeof signedEntrySchema>;

/** Decodes unpadded base64url, refusing any other spelling of the same bytes. */
function decodeBase64url(text: string, field: string): Buffer {
  const bytes = BASE64URL.test(text) ? Buffer.from(text, 'base64url') : undefined;
  if (bytes === undefined || bytes.toString('base64url') !== text) {
    throw new DirectoryError('malformed', `signed entry is malformed: ${field}: not base64url`);
  }
  return bytes;
}

function signedBytes(payload: Uint8Array): Buffer {
  return Buffer.concat([SIGNATURE_CONTEXT, payload]);
}

/** Checks the entry, then signs its JSON bytes with an Ed25519 operator key. */
export function signEntry(entry: Entry, privateKey: KeyObject, kid: string): SignedEntry {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('privateKey must be an Ed25519 private key');
  }
  const parsed = parseEntry(entry);
  if (!parsed.ok) {
    throw new DirectoryError('malformed', `entry is malformed: ${describeIssues(parsed.error)}`);
  }
  if (parsed.entry.operator !== kid) {
    throw new DirectoryError('operator-mismatch', 'entry operator differs from the signing key id');
  }
  const payload = Buffer.from(JSON.stringify(parsed.entry), 'utf8');
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new DirectoryError('malformed', `entry is malformed: over ${MAX_PAYLOAD_BYTES} bytes`);
  }
  const sig = sign(null, signedBytes(payload), privateKey);
  return { payload: payload.toString('base64url'), sig: sig.toString('base64url'), kid };
}

function parsePayload(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new DirectoryError('malformed', 'entry is malformed: payload is not UTF-8 JSON', {
      cause: err,
    });
  }
}

function checkValidity(entry: Entry, now: number): void {
  if (!Number.isFinite(now)) throw new TypeError('now must be finite unix seconds');
  if (now < entry.notBefore) throw new DirectoryError('not-yet-valid', 'entry is not valid yet');
  if (now >= entry.notAfter) throw new DirectoryError('expired', 'entry has expired');
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
  const envelope = signedEntrySchema.safeParse(signed);
  if (!envelope.success) {
    throw new DirectoryError(
      'malformed',
      `signed entry is malformed: ${describeIssues(envelope.error)}`,
    );
  }
  const { kid } = envelope.data;
  const payload = decodeBase64url(envelope.data.payload, 'payload');
  const sig = decodeBase64url(envelope.data.sig, 'sig');
  const key = keys.get(kid);
  if (key === undefined)
    throw new DirectoryError('unknown-key', 'entry is signed by an unknown key');
  let valid: boolean;
  try {
    valid = verify(null, signedBytes(payload), key, sig);
  } catch (err) {
    throw badSignature(err);
  }
  if (!valid) throw badSignature();

  const parsed = parseEntry(parsePayload(payload));
  if (!parsed.ok) {
    throw new DirectoryError('malformed', `entry is malformed: ${describeIssues(parsed.error)}`);
  }
  const entry = parsed.entry;
  // Otherwise operator A's key could vouch for an entry that claims operator B.
  if (entry.operator !== kid) {
    throw new DirectoryError('operator-mismatch', 'entry operator differs from the signing key id');
  }
  checkValidity(entry, now);
  return entry;
}

/**
 * The egress id a signed entry claims, read WITHOUT verifying it: only for picking an entry
 * out of a file (the publisher's own, or the one to replace), never for trusting one.
 */
export function claimedEntryId(signed: unknown): string | undefined {
  const payload = (signed as { payload?: unknown } | null)?.payload;
  if (typeof payload !== 'string') return undefined;
  try {
    const id = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { id?: unknown })
      .id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
