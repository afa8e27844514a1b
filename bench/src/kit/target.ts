/** Starts the bench target process (target/main.ts) with the deployment's target certificate. */
import { fileURLToPath } from 'node:url';
import type { Deployment } from '@splitrelay/local-deployment';
import { ADDR } from './addresses.ts';
import { startChild, type Child } from './child.ts';

export interface Target {
  readonly child: Child;
  readonly tlsPort: number;
  readonly holdPort: number;
  readonly udpPort: number;
}

const MAIN = fileURLToPath(new URL('../target/main.ts', import.meta.url));

export async function startTarget(deployment: Deployment, fdLimit: number): Promise<Target> {
  const child = await startChild(
    'target',
    process.execPath,
    [MAIN, '--host', ADDR.target, '--cert', deployment.target.cert, '--key', deployment.target.key],
    { fdLimit },
  );
  return {
    child,
    tlsPort: Number(child.ready.tls),
    holdPort: Number(child.ready.hold),
    udpPort: Number(child.ready.udp),
  };
}
