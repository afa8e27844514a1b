/**
 * SplitRelay two hops through the SDK in the measuring process: no SOCKS hop, but the target
 * TLS runs over an h2 stream (a JavaScript socket shim) instead of a native socket.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadDirectoryFile, readTrustedKeys } from '@splitrelay/directory';
import { TokenWallet, createSplitRelayClient, type SplitRelayClient } from '@splitrelay/sdk';
import { ADDR, INGRESS_NAME, ISSUER_NAME } from '../kit/addresses.ts';
import type { Relays } from '../kit/relays.ts';
import { datagramUdp } from '../measure/udp-paths.ts';
import type { Contender } from './types.ts';

function sdkClient(relays: Relays): SplitRelayClient {
  const { deployment } = relays;
  const ca = readFileSync(deployment.caCert, 'utf8');
  // A fresh wallet per client: a cold start pays the 407, the issuer round trip and blinding.
  const wallet = new TokenWallet({
    issuer: relays.issuerUrl,
    issuerCa: ca,
    issuerServername: ISSUER_NAME,
    credential: deployment.issuer!.credential,
    localAddress: ADDR.client,
  });
  const verified = loadDirectoryFile(
    deployment.directoryFile,
    readTrustedKeys([{ publicKey: deployment.operatorPublicKey }]),
    Math.floor(Date.now() / 1000),
  );
  return createSplitRelayClient({
    ingress: {
      host: ADDR.ingress,
      port: relays.ingressPort,
      servername: INGRESS_NAME,
      ca,
    },
    directory: () => verified.entries,
    localAddress: ADDR.client,
    authenticator: wallet,
  });
}

export function splitRelaySdkContender(relays: Relays): Contender {
  const client = sdkClient(relays);
  return {
    id: 'splitrelay-sdk',
    label: 'SplitRelay (SDK in-process)',
    openStream: (port) => client.connect({ host: ADDR.target, port }),
    openUdp: async (port) => datagramUdp(await client.openUdp({ host: ADDR.target, port })),
    async freshClient() {
      // The SDK's cold start: directory verification, both handshakes, no process start.
      const fresh = sdkClient(relays);
      return {
        openStream: (port) => fresh.connect({ host: ADDR.target, port }),
        close: async () => fresh.close(),
      };
    },
    roles: () => ({ client: [], ingress: [relays.ingress.pid], egress: [relays.egress.pid] }),
    async collectGarbage() {
      for (const app of [relays.ingress, relays.egress]) app.collectGarbage();
      await sleep(500);
    },
    stop: async () => client.close(),
  };
}
