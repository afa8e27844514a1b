/** The SDK client of a world, in the test process (so its handles can be checked). */
import { readFileSync } from 'node:fs';
import { loadDirectoryFile, readTrustedKeys } from '@splitrelay/directory-source';
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
  const verified = loadDirectoryFile(
    world.deployment.directoryFile,
    readTrustedKeys([{ publicKey: world.deployment.operatorPublicKey }]),
    Math.floor(Date.now() / 1000),
  );
  return createSplitRelayClient({
    ingress: {
      host: ADDR.ingress,
      port: world.ingressPort,
      servername: INGRESS_NAME,
      ca: readFileSync(world.deployment.caCert, 'utf8'),
    },
    directory: () => verified.entries,
    localAddress: ADDR.client,
    ...extra,
  });
}

/** Connections still open in this process (servers and child pipes of the world excluded). */
export function openNetworkHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => /TCPSocketWrap|TLSWrap|UDPWrap|Http2/i.test(r));
}
