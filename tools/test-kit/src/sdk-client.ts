/** The SDK client of a world, in the test process (so its handles can be checked). */
import { readFileSync } from 'node:fs';
import {
  createSplitRelayClient,
  type SplitRelayClient,
  type SplitRelayClientOptions,
} from '@splitrelay/sdk';
import { ADDR, INGRESS_NAME, type World } from './world.ts';

export function sdkClient(
  world: World,
  extra: Partial<SplitRelayClientOptions> = {},
): SplitRelayClient {
  return createSplitRelayClient({
    ingress: {
      host: ADDR.ingress,
      port: world.ingressPort,
      servername: INGRESS_NAME,
      ca: readFileSync(world.deployment.caCert, 'utf8'),
    },
    // As a real client: the signed directory from the ingress, verified against the operator key.
    directory: { operatorKeys: [readFileSync(world.deployment.operatorPublicKey, 'utf8')] },
    localAddress: ADDR.client,
    ...extra,
  });
}
