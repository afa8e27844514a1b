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
import type { KeyObject } from 'node:crypto';
import {
  DirectoryError,
  checkWindow,
  describeIssues,
  openDocument,
  signDocument,
  signatureContext,
  spkiPin,
  trustedKeyMap,
  type TrustedKeys,
} from '@splitrelay/directory';
import {
  ingressCertPayloadSchema,
  type IngressCertPayload,
  type SignedIngressCert,
} from './schemas.ts';

export const INGRESS_CERT_CONTEXT: Uint8Array = signatureContext('ingress-cert');

export type IngressCert = Readonly<IngressCertPayload>;

function parsePayload(input: unknown): IngressCert {
  const parsed = ingressCertPayloadSchema.safeParse(input);
  if (!parsed.success) {
    throw new DirectoryError(
      'malformed',
      `ingress cert is malformed: ${describeIssues(parsed.error)}`,
    );
  }
  return Object.freeze(parsed.data);
}

/** Checks the announcement, then signs its JSON bytes with the ingress operator's key. */
export function signIngressCert(
  cert: IngressCertPayload,
  privateKey: KeyObject,
  kid: string,
): SignedIngressCert {
  return signDocument(INGRESS_CERT_CONTEXT, parsePayload(cert), privateKey, kid, 'ingress cert');
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
  const { value } = openDocument(INGRESS_CERT_CONTEXT, signed, keys, 'ingress cert');
  const cert = parsePayload(value);
  checkWindow(cert, nowSeconds, 'ingress cert');
  return cert;
}

/** The RFC 7469-style SPKI pin of the announced certificate, for the egress's TLS check. */
export function ingressCertPin(cert: IngressCert): string {
  return spkiPin(cert.certPem);
}
