/**
 * The signed envelope every operator-signed document travels in (directory entries, ingress
 * trunk certificates, operator manifests), the same on every transport (a file, NATS, HTTP):
 *
 *   Signed  = { payload: base64url(JSON bytes),
 *               sig:     base64url(Ed25519(key, CONTEXT || JSON bytes)),
 *               kid:     operator key id }
 *
 * The signature covers the exact payload bytes, so no JSON canonicalisation is needed. Each
 * kind of document has its own CONTEXT ("splitrelay-<kind>-v1" 0x00), so a key that signs one
 * kind can never be made to vouch for another. A verifier checks the signature before it
 * parses a single byte of the payload, and only one spelling of each base64url value is
 * accepted.
 */
import { Buffer } from 'node:buffer';
import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { keyIdSchema } from './entry.ts';
import { DirectoryError, badSignature } from './errors.ts';

/** Bounds the work a hostile document can cause; real ones are a few hundred bytes. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;
const SIGNATURE_BYTES = 64;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The envelope's shape, for documents of at most `maxPayloadBytes`. */
export function envelopeSchema(maxPayloadBytes: number) {
  return z.strictObject({
    payload: z
      .string()
      .min(1)
      .max(Math.ceil((maxPayloadBytes * 4) / 3)),
    sig: z.string().length(Math.ceil((SIGNATURE_BYTES * 4) / 3)),
    kid: keyIdSchema,
  });
}

export const signedEnvelopeSchema = envelopeSchema(MAX_PAYLOAD_BYTES);

export type SignedEnvelope = z.output<typeof signedEnvelopeSchema>;

/** The context of one kind of document: `splitrelay-<kind>-v1` and a zero byte. */
export function signatureContext(kind: string): Uint8Array {
  if (!/^[a-z][a-z0-9-]*$/.test(kind)) throw new TypeError('kind must be lower-case words');
  return Buffer.from(`splitrelay-${kind}-v1\0`, 'latin1');
}

/** Unpadded base64url in its one canonical spelling, else undefined. */
export function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** Strict UTF-8 JSON, else undefined. */
export function decodeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The JSON value inside an envelope's payload, read WITHOUT checking the signature: only for
 * picking a document out of a file (the publisher's own, the one to replace), never for
 * trusting one.
 */
export function unverifiedPayload(signed: unknown): unknown {
  const payload = (signed as { payload?: unknown } | null)?.payload;
  if (typeof payload !== 'string') return undefined;
  const bytes = decodeBase64url(payload);
  return bytes === undefined ? undefined : decodeJson(bytes);
}

/** Signs a document's JSON value as its kind; `what` names the kind in error messages. */
export function signDocument(
  context: Uint8Array,
  value: unknown,
  privateKey: KeyObject,
  kid: string,
  what: string,
  maxPayloadBytes = MAX_PAYLOAD_BYTES,
): SignedEnvelope {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('privateKey must be an Ed25519 private key');
  }
  const payload = Buffer.from(JSON.stringify(value), 'utf8');
  if (payload.length > maxPayloadBytes) {
    throw new DirectoryError('malformed', `${what} is malformed: over ${maxPayloadBytes} bytes`);
  }
  const sig = sign(null, Buffer.concat([context, payload]), privateKey);
  return { payload: payload.toString('base64url'), sig: sig.toString('base64url'), kid };
}

/**
 * Checks an envelope's shape and signature and returns the signer's key id and the payload's
 * JSON value. Every failure of the signature check itself is the same 'bad-signature' error,
 * detail only in `cause`, so no message can serve as an oracle.
 */
export function openDocument(
  context: Uint8Array,
  signed: unknown,
  keys: ReadonlyMap<string, KeyObject>,
  what: string,
  maxPayloadBytes = MAX_PAYLOAD_BYTES,
): { kid: string; value: unknown } {
  const envelope = (
    maxPayloadBytes === MAX_PAYLOAD_BYTES ? signedEnvelopeSchema : envelopeSchema(maxPayloadBytes)
  ).safeParse(signed);
  if (!envelope.success) {
    const issues = envelope.error.issues
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    throw new DirectoryError('malformed', `signed ${what} is malformed: ${issues}`);
  }
  const { kid } = envelope.data;
  const payload = decodeBase64url(envelope.data.payload);
  const sig = decodeBase64url(envelope.data.sig);
  if (payload === undefined || sig === undefined) {
    const field = payload === undefined ? 'payload' : 'sig';
    throw new DirectoryError('malformed', `signed ${what} is malformed: ${field}: not base64url`);
  }
  const key = keys.get(kid);
  if (key === undefined)
    throw new DirectoryError('unknown-key', `${what} is signed by an unknown key`);
  let valid: boolean;
  try {
    valid = verify(null, Buffer.concat([context, payload]), key, sig);
  } catch (err) {
    throw badSignature(err);
  }
  if (!valid) throw badSignature();
  const value = decodeJson(payload);
  if (value === undefined) {
    throw new DirectoryError('malformed', `${what} is malformed: payload is not UTF-8 JSON`);
  }
  return { kid, value };
}

/** Refuses a document outside its validity window at `now` (unix seconds). */
export function checkWindow(
  window: { readonly notBefore: number; readonly notAfter: number },
  now: number,
  what: string,
): void {
  if (!Number.isFinite(now)) throw new TypeError('now must be finite unix seconds');
  if (now < window.notBefore) throw new DirectoryError('not-yet-valid', `${what} is not valid yet`);
  if (now >= window.notAfter) throw new DirectoryError('expired', `${what} has expired`);
}
