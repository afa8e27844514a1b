/** Flows to the target through a local SOCKS5 port (the client app's or `ssh -D`'s), alike. */
import type { Duplex } from 'node:stream';
import { socksConnect } from '@splitrelay/test-kit/socks-client';
import { ADDR } from '../kit/addresses.ts';

export const viaSocks =
  (socksPort: number) =>
  (port: number): Promise<Duplex> =>
    socksConnect({ host: ADDR.socks, port: socksPort }, { host: ADDR.target, port });
