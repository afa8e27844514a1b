/**
 * SplitRelay two hops as an application sees it: the client app's local SOCKS5 proxy, one
 * inner session through ingress and egress carrying every flow.
 */
import { freePort, spawnProcess, type RunningApp } from '@splitrelay/local-deployment';
import { ADDR } from '../kit/addresses.ts';
import { startApp, type NodeArgsFor, type Relays } from '../kit/relays.ts';
import { CLIENT_BUNDLE } from '@splitrelay/client-app/bundle';
import { setTimeout as sleep } from 'node:timers/promises';
import { socksUdp } from '../measure/udp-paths.ts';
import type { Contender } from './types.ts';
import { viaSocks } from './via-socks.ts';
import { waitForPort } from './wait-port.ts';

export async function splitRelayContender(
  relays: Relays,
  fdLimit: number,
  nodeArgs?: NodeArgsFor,
): Promise<Contender & { readonly client: RunningApp }> {
  const socksPort = await freePort(ADDR.socks);
  const client = await startApp(
    'client',
    await relays.deployment.writeConfig('client', relays.clientConfig(socksPort)),
    fdLimit,
    nodeArgs,
  );
  let cold = 0;
  return {
    id: 'splitrelay',
    label: 'SplitRelay (SOCKS5)',
    client,
    openStream: viaSocks(socksPort),
    openUdp: (port) => socksUdp({ host: ADDR.socks, port: socksPort }, { host: ADDR.target, port }),
    async freshClient() {
      const port = await freePort(ADDR.socks);
      const file = await relays.deployment.writeConfig(
        `client-cold-${++cold % 4}`,
        relays.clientConfig(port),
      );
      const proc = spawnProcess(
        'client-cold',
        process.execPath,
        [CLIENT_BUNDLE, '--config', file],
        {
          keepLines: 200,
        },
      );
      await waitForPort(ADDR.socks, port, 20_000, 1).catch(async (err: Error) => {
        await proc.stop();
        throw new Error(`${err.message}\n${proc.lines.join('\n')}`, { cause: err });
      });
      return { openStream: viaSocks(port), close: () => proc.stop() };
    },
    roles: () => ({
      client: [client.pid],
      ingress: [relays.ingress.pid],
      egress: [relays.egress.pid],
    }),
    async collectGarbage() {
      for (const app of [client, relays.ingress, relays.egress]) app.collectGarbage();
      await sleep(500);
    },
    stop: () => client.stop(),
  };
}
