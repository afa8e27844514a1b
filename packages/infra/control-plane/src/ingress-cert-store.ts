/**
 * What an egress holds from the control plane about the trunk: the ingress certificates the
 * ingress operator currently vouches for, by ingress id. Pure, like DirectoryStore.
 */
import { VersionedStore, type ApplyResult, type TrustedKeys } from '@splitrelay/directory';
import { ingressCertPin, verifyIngressCert, type IngressCert } from './ingress-cert.ts';
import type { SignedIngressCert } from './schemas.ts';

export class IngressCertStore {
  readonly #store = new VersionedStore<IngressCert>(verifyIngressCert);

  apply(
    signed: unknown,
    trustedKeys: TrustedKeys,
    nowSeconds: number,
    subjectId?: string,
  ): ApplyResult {
    return this.#store.apply(signed, trustedKeys, nowSeconds, subjectId);
  }

  /** Announcements still valid at `nowSeconds`, by ingress id. */
  certs(nowSeconds: number): Map<string, IngressCert> {
    return new Map(this.#store.current(nowSeconds).map((h) => [h.value.id, h.value]));
  }

  /** SPKI pins of the certificates to admit on the trunk at `nowSeconds`. */
  pins(nowSeconds: number): Set<string> {
    return new Set(this.#store.current(nowSeconds).map((h) => ingressCertPin(h.value)));
  }

  /** The announcements in the signed form they arrived in, sorted by ingress id. */
  signedCerts(nowSeconds: number): SignedIngressCert[] {
    return this.#store.current(nowSeconds).map((h) => h.signed);
  }

  validUntil(nowSeconds: number): number | undefined {
    return this.#store.validUntil(nowSeconds);
  }

  versionOf(ingressId: string): number | undefined {
    return this.#store.versionOf(ingressId);
  }
}
