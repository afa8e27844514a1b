/**
 * The ingress operator's announcement of a trunk certificate, so egresses admit exactly the
 * ingresses it names. Same envelope as a directory entry, with its own context string:
 *
 *   IngressCert       = { v: 1, id, certPem, notBefore, notAfter, version }   (strict)
 *   SignedIngressCert = { payload: base64url(IngressCert JSON bytes),
 *                         sig: base64url(Ed25519(key, CONTEXT || payload bytes)), kid }
 *   CONTEXT           = "splitrelay-ingress-cert-v1" 0x00
 *
 * Failures are DirectoryErrors with the directory's codes ('bad-signature', 'unknown-key',
 * 'expired', 'not-yet-valid', 'malformed'), so both signed kinds are counted alike.
 */
import { Buffer } from 'node:buffer';
import type { KeyObject } from 'node:crypto';
import {
  DirectoryError,
  MAX_PAYLOAD_BYTES,
  signedEntrySchema,
  spkiPin,
  trustedKeyMap,
  type TrustedKeys,
} from '@splitrelay/directory';
import type { z } from 'zod';
import { decodeJson, signBytes, verifiedBytes } from './envelope.ts';
import {
  ingressCertPayloadSchema,
  type IngressCertPayload,
  type SignedIngressCert,
} from './schemas.ts';

export const INGRESS_CERT_CONTEXT: Uint8Array = Buffer.from(
  'splitrelay-ingress-cert-v1\0',
  'latin1',
);

export type IngressCert = Readonly<IngressCertPayload>;

function describe(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

function parsePayload(input: unknown): IngressCert {
  const parsed = ingressCertPayloadSchema.safeParse(input);
  if (!parsed.success) {
    throw new DirectoryError('malformed', `ingress cert is malformed: ${describe(parsed.error)}`);
  }
  return Object.freeze(parsed.data);
}

/** Checks the announcement, then signs its JSON bytes with the ingress operator's key. */
export function signIngressCert(
  cert: IngressCertPayload,
  privateKey: KeyObject,
  kid: string,
): SignedIngressCert {
  const bytes = Buffer.from(JSON.stringify(parsePayload(cert)), 'utf8');
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new DirectoryError(
      'malformed',
      `ingress cert is malformed: over ${MAX_PAYLOAD_BYTES} bytes`,
    );
  }
  return signBytes(INGRESS_CERT_CONTEXT, bytes, privateKey, kid);
}

/**
 * Verifies a signed announcement at `nowSeconds` (unix) against the ingress operator's
 * keys: the signature first, then the payload's schema, then its validity window. Returns
 * the frozen announcement; throws a DirectoryError saying why not, or a TypeError when the
 * caller's own arguments (keys, time) are wrong.
 */
export function verifyIngressCert(
  signed: unknown,
  trustedKeys: TrustedKeys,
  nowSeconds: number,
): IngressCert {
  const keys = trustedKeyMap(trustedKeys);
  if (!Number.isFinite(nowSeconds)) throw new TypeError('nowSeconds must be finite unix seconds');
  const envelope = signedEntrySchema.safeParse(signed);
  if (!envelope.success) {
    throw new DirectoryError(
      'malformed',
      `signed ingress cert is malformed: ${describe(envelope.error)}`,
    );
  }
  const bytes = verifiedBytes(INGRESS_CERT_CONTEXT, envelope.data, keys);
  const json = decodeJson(bytes);
  if (json === undefined) {
    throw new DirectoryError('malformed', 'ingress cert is malformed: payload is not UTF-8 JSON');
  }
  const cert = parsePayload(json);
  if (nowSeconds < cert.notBefore) {
    throw new DirectoryError('not-yet-valid', 'ingress cert is not valid yet');
  }
  if (nowSeconds >= cert.notAfter) throw new DirectoryError('expired', 'ingress cert has expired');
  return cert;
}

/** The RFC 7469-style SPKI pin of the announced certificate, for the egress's TLS check. */
export function ingressCertPin(cert: IngressCert): string {
  return spkiPin(cert.certPem);
}
