/**
 * The directory's signed envelope, generalised to any document type an operator key signs
 * (packages/core/directory/src/signed-entry.ts does exactly this for entries, with the
 * context "splitrelay-directory-entry-v1"; meant to move into that package, with
 * signEntry/verifyEntry becoming this with the entry's kind):
 *
 *   Signed  = { payload: base64url(document JSON bytes),          (unpadded, canonical)
 *               sig:     base64url(Ed25519(key, CONTEXT || payload bytes)),
 *               kid:     operator key id }
 *   CONTEXT = "<document type>-v<version>" 0x00, one per document type
 *
 * The signature covers the exact payload bytes (no JSON canonicalisation), it is checked
 * before a byte of the payload is parsed, and the per-type context keeps a key's signature
 * on one kind of document from ever passing for another (a manifest for an entry or back).
 * Errors are the directory's: DirectoryError codes, and a failed signature always says only
 * "signature verification failed" with any detail in `cause`.
 */
import { Buffer } from 'node:buffer';
import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { DirectoryError, trustedKeyMap, type TrustedKeys } from '@splitrelay/directory';

/** The directory's key id syntax (entry.ts KEY_ID). */
export const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const keyIdSchema = z.string().regex(KEY_ID, 'must be 1-64 of [A-Za-z0-9._-]');

const SIGNATURE_BYTES = 64;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export interface SignedDocument {
  readonly payload: string;
  readonly sig: string;
  readonly kid: string;
}

/** What the envelope needs to know about one document type. */
export interface DocumentKind<T> {
  /** Used in messages: "manifest is malformed: ...". */
  readonly name: string;
  /** "<type>-v<n>" followed by one zero byte. */
  readonly context: Uint8Array;
  readonly maxPayloadBytes: number;
  /** Strict schema check; returns the frozen document or one line per problem. */
  parse(value: unknown): { ok: true; value: T } | { ok: false; problems: string };
  /** The operator key id the document says signed it (must equal the envelope's kid). */
  operatorOf(value: T): string;
}

/** The context bytes for a document type: its name and version, then 0x00. */
export function signatureContext(type: string, version: number): Uint8Array {
  if (!/^[a-z0-9-]+$/.test(type) || !Number.isInteger(version) || version < 1) {
    throw new RangeError('a context is a lower-case type name and a version >= 1');
  }
  return Buffer.from(`${type}-v${version}\0`, 'latin1');
}

function envelopeSchema(maxPayloadBytes: number) {
  return z.strictObject({
    payload: z
      .string()
      .min(1)
      .max(Math.ceil((maxPayloadBytes * 4) / 3)),
    sig: z.string().length(Math.ceil((SIGNATURE_BYTES * 4) / 3)),
    kid: keyIdSchema,
  });
}

function decodeBase64url(text: string, what: string): Buffer {
  const bytes = BASE64URL.test(text) ? Buffer.from(text, 'base64url') : undefined;
  if (bytes === undefined || bytes.toString('base64url') !== text) {
    throw new DirectoryError('malformed', `signed ${what} is malformed: not base64url`);
  }
  return bytes;
}

function signedBytes(context: Uint8Array, payload: Uint8Array): Buffer {
  return Buffer.concat([context, payload]);
}

function badSignature(cause?: unknown): DirectoryError {
  return new DirectoryError(
    'bad-signature',
    'signature verification failed',
    cause === undefined ? undefined : { cause },
  );
}

/** Checks the document, then signs its JSON bytes with an Ed25519 operator key. */
export function signDocument<T>(
  kind: DocumentKind<T>,
  document: T,
  privateKey: KeyObject,
  kid: string,
): SignedDocument {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('privateKey must be an Ed25519 private key');
  }
  const parsed = kind.parse(document);
  if (!parsed.ok)
    throw new DirectoryError('malformed', `${kind.name} is malformed: ${parsed.problems}`);
  if (kind.operatorOf(parsed.value) !== kid) {
    throw new DirectoryError(
      'operator-mismatch',
      `${kind.name} operator differs from the signing key id`,
    );
  }
  const payload = Buffer.from(JSON.stringify(parsed.value), 'utf8');
  if (payload.length > kind.maxPayloadBytes) {
    throw new DirectoryError(
      'malformed',
      `${kind.name} is malformed: over ${kind.maxPayloadBytes} bytes`,
    );
  }
  const sig = sign(null, signedBytes(kind.context, payload), privateKey);
  return { payload: payload.toString('base64url'), sig: sig.toString('base64url'), kid };
}

/**
 * Verifies the envelope against the trusted operator keys and returns the frozen document.
 * Validity in time is the document type's business (its caller checks its own fields).
 */
export function verifyDocument<T>(
  kind: DocumentKind<T>,
  signed: unknown,
  trustedKeys: TrustedKeys,
): T {
  const keys = trustedKeyMap(trustedKeys);
  const envelope = envelopeSchema(kind.maxPayloadBytes).safeParse(signed);
  if (!envelope.success) {
    throw new DirectoryError(
      'malformed',
      `signed ${kind.name} is malformed: ${envelope.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  const { kid } = envelope.data;
  const payload = decodeBase64url(envelope.data.payload, kind.name);
  const sig = decodeBase64url(envelope.data.sig, kind.name);
  const key = keys.get(kid);
  if (key === undefined)
    throw new DirectoryError('unknown-key', `${kind.name} is signed by an unknown key`);
  let valid: boolean;
  try {
    valid = verify(null, signedBytes(kind.context, payload), key, sig);
  } catch (err) {
    throw badSignature(err);
  }
  if (!valid) throw badSignature();

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw new DirectoryError('malformed', `${kind.name} is malformed: payload is not UTF-8 JSON`, {
      cause: err,
    });
  }
  const parsed = kind.parse(json);
  if (!parsed.ok)
    throw new DirectoryError('malformed', `${kind.name} is malformed: ${parsed.problems}`);
  // Otherwise operator A's key could vouch for a document that claims operator B.
  if (kind.operatorOf(parsed.value) !== kid) {
    throw new DirectoryError(
      'operator-mismatch',
      `${kind.name} operator differs from the signing key id`,
    );
  }
  return parsed.value;
}
