/** The physical path: the measuring client connects straight to the target. */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ADDR } from '../kit/addresses.ts';
import { directUdp } from '../measure/udp-paths.ts';
import type { Contender } from './types.ts';

function connectTarget(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: ADDR.target, port, localAddress: ADDR.client });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export function directContender(): Contender {
  return {
    id: 'direct',
    label: 'direct',
    openStream: connectTarget,
    openUdp: (port) => directUdp(ADDR.client, { host: ADDR.target, port }),
    // No client to start: a cold start is one new connection.
    freshClient: async () => ({ openStream: connectTarget, close: async () => {} }),
    roles: () => ({ client: [], ingress: [], egress: [] }),
    collectGarbage: async () => {},
    stop: async () => {},
  };
}
