/**
 * The signed envelope shared by directory entries and ingress certificates:
 *
 *   Signed  = { payload: base64url(JSON bytes), sig: base64url(Ed25519(CONTEXT || bytes)), kid }
 *
 * Each kind of payload has its own CONTEXT, so an operator key that signs one kind can never
 * be made to vouch for another. @splitrelay/directory keeps its decoding private, so the few
 * lines needed are repeated here, with the same canonical-spelling rule.
 */
import { Buffer } from 'node:buffer';
import { sign, verify, type KeyObject } from 'node:crypto';
import { DirectoryError } from '@splitrelay/directory';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

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

/** The JSON value inside an envelope's payload, without checking the signature. */
export function unverifiedPayload(payload: string): unknown {
  const bytes = decodeBase64url(payload);
  return bytes === undefined ? undefined : decodeJson(bytes);
}

export function signBytes(
  context: Uint8Array,
  payload: Uint8Array,
  privateKey: KeyObject,
  kid: string,
): { payload: string; sig: string; kid: string } {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('privateKey must be an Ed25519 private key');
  }
  const sig = sign(null, Buffer.concat([context, payload]), privateKey);
  return {
    payload: Buffer.from(payload).toString('base64url'),
    sig: sig.toString('base64url'),
    kid,
  };
}

/**
 * Checks the signature over the payload bytes and returns them. Every failure of the check
 * itself is the same 'bad-signature' error; detail stays in `cause`.
 */
export function verifiedBytes(
  context: Uint8Array,
  envelope: { payload: string; sig: string; kid: string },
  keys: ReadonlyMap<string, KeyObject>,
): Buffer {
  const payload = decodeBase64url(envelope.payload);
  const sig = decodeBase64url(envelope.sig);
  if (payload === undefined || sig === undefined) {
    throw new DirectoryError('malformed', 'signed message is malformed: not base64url');
  }
  const key = keys.get(envelope.kid);
  if (key === undefined) {
    throw new DirectoryError('unknown-key', 'message is signed by an unknown key');
  }
  let valid: boolean;
  try {
    valid = verify(null, Buffer.concat([context, payload]), key, sig);
  } catch (err) {
    throw new DirectoryError('bad-signature', 'signature verification failed', { cause: err });
  }
  if (!valid) throw new DirectoryError('bad-signature', 'signature verification failed');
  return payload;
}
