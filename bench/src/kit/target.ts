/** Starts the bench target process (target/main.ts) with the deployment's target certificate. */
import { fileURLToPath } from 'node:url';
import { startProcess, type Deployment, type StartedProcess } from '@splitrelay/local-deployment';
import { ADDR } from './addresses.ts';

export interface Target {
  readonly process: StartedProcess;
  readonly tlsPort: number;
  readonly holdPort: number;
  readonly udpPort: number;
}

const MAIN = fileURLToPath(new URL('../target/main.ts', import.meta.url));

export async function startTarget(deployment: Deployment, fdLimit: number): Promise<Target> {
  const target = await startProcess(
    'target',
    process.execPath,
    [MAIN, '--host', ADDR.target, '--cert', deployment.target.cert, '--key', deployment.target.key],
    { fdLimit, keepLines: 200, timeoutMs: 20_000 },
  );
  return {
    process: target,
    tlsPort: Number(target.ready.tls),
    holdPort: Number(target.ready.hold),
    udpPort: Number(target.ready.udp),
  };
}
