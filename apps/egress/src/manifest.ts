/**
 * This egress's operator manifest claims, built from its config: the same function runs in
 * the egress at start (to check the signed manifest it serves) and in sign-manifest (to
 * make it), so what is signed is what runs.
 */
import { fileURLToPath } from 'node:url';
import type { DeepReadonly } from '@splitrelay/config';
import {
  compilePools,
  manifestAddresses,
  type AddressPools,
  type EgressAddressesConfig,
  type Manifest,
} from '@splitrelay/egress-addresses';
import { logFieldsOf, runningSoftware, type ManifestClaims } from '@splitrelay/operator-manifest';
import type { EgressConfig } from './config.ts';

const appDir = fileURLToPath(new URL('..', import.meta.url));

export function egressClaims(
  config: DeepReadonly<EgressConfig>,
  operator: string,
  software: ManifestClaims['software'] = runningSoftware(appDir),
): ManifestClaims {
  if (!config.manifest) throw new TypeError('egressClaims needs a manifest block');
  if (!config.addresses) throw new TypeError('an egress manifest needs address pools');
  return {
    v: 1,
    operator,
    relayId: config.egressId,
    role: 'egress',
    // Nothing this program learns about a client goes to anyone: it has no code that would.
    forwardsClientData: false,
    logging: {
      level: config.log.level,
      fields: logFieldsOf('egress'),
      // Refused flows are logged one by one (with their target) only with log.flows.
      perFlowRecords: config.log.flows,
      // No egress log field can hold a client address (packages/infra/log).
      clientAddresses: false,
      targets: config.log.flows,
    },
    retention: { ...config.manifest.retention },
    addresses: statedAddresses(compilePools(config.addresses as EgressAddressesConfig), config),
    // Tokens are the ingress's to ask for and redeem; the egress never sees one.
    tokens: { required: false, tokenTypes: [], issuers: [], doubleSpend: 'none' },
    software,
  };
}

/**
 * The `addresses` this egress states, in its manifest and on its health endpoint: its pools,
 * and with an Oblivious HTTP gateway where the gateway's target connections draw from (the
 * default region, afresh per connection: egress.ts, gatewaySource).
 */
export function statedAddresses(
  pools: AddressPools,
  config: DeepReadonly<EgressConfig>,
): NonNullable<Manifest['addresses']> {
  return {
    ...manifestAddresses(pools),
    ...(config.ohttp
      ? { gateway: { drawnPer: 'connection', region: pools.defaultRegion.id } }
      : {}),
  };
}
