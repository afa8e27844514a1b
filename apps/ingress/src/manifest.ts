/**
 * This ingress's operator manifest claims, built from its config: the same function runs in
 * the ingress at start (to check the signed manifest it serves) and in sign-manifest (to
 * make it), so what is signed is what runs.
 */
import { fileURLToPath } from 'node:url';
import type { DeepReadonly } from '@splitrelay/config';
import { ISSUER_TOKEN_TYPE } from '@splitrelay/control-plane';
import { logFieldsOf, runningSoftware, type ManifestClaims } from '@splitrelay/operator-manifest';
import type { IngressConfig } from './config.ts';

const appDir = fileURLToPath(new URL('..', import.meta.url));

export function ingressClaims(
  config: DeepReadonly<IngressConfig>,
  operator: string,
  software: ManifestClaims['software'] = runningSoftware(appDir),
): ManifestClaims {
  const relayId = config.manifest?.ingressId ?? config.controlPlane?.ingressId;
  if (!config.manifest || relayId === undefined) {
    throw new TypeError('ingressClaims needs a manifest block and an ingress id');
  }
  const pp = config.admission.privacyPass;
  const fields = logFieldsOf('ingress');
  return {
    v: 1,
    operator,
    relayId,
    role: 'ingress',
    // The ingress passes client bytes to the egress, encrypted end to end; it adds nothing
    // about the client (no Forwarded header, no address) and tells no third party anything.
    forwardsClientData: false,
    logging: {
      level: config.log.level,
      fields,
      // Each refused tunnel gets a debug line (its error code and, at most, a real egress id).
      perFlowRecords: config.log.level === 'debug' || config.log.level === 'trace',
      // The ingress is the side that may know a client's address: its logger has the field.
      clientAddresses: fields.includes('clientAddr'),
      // No ingress log field can hold a target (packages/infra/log).
      targets: false,
    },
    retention: { ...config.manifest.retention },
    tokens: pp
      ? {
          required: true,
          tokenTypes: [ISSUER_TOKEN_TYPE],
          issuers: [pp.issuerName],
          // With a control plane, spent tokens go to the operator's NATS KV, shared by the fleet.
          doubleSpend: config.controlPlane ? 'fleet' : 'relay',
        }
      : { required: false, tokenTypes: [], issuers: [], doubleSpend: 'none' },
    software,
  };
}
