/**
 * Resident memory per open client session. SplitRelay: a holder process opens real client
 * sessions (outer TLS + inner TLS/h2) and keeps them idle. OpenSSH: one `ssh -N -J` process
 * per session (each forks sshd processes on both hosts), so far fewer of them fit.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  processTree,
  spawnProcess,
  startProcess,
  type RunningProcess,
} from '@splitrelay/local-deployment';
import { ADDR, EGRESS_ID, INGRESS_NAME, ISSUER_NAME } from '../kit/addresses.ts';
import type { Relays } from '../kit/relays.ts';
import type { Contender } from '../contenders/types.ts';
import type { SshdPair } from '../contenders/sshd.ts';
import { growth, marginal, rolesMemory, type MemoryPoint } from './memory-flows.ts';
import type { HolderSpec } from './session-holder.ts';

const HOLDER = fileURLToPath(new URL('./session-holder.ts', import.meta.url));

export async function splitRelaySessionMemory(
  relays: Relays,
  contender: Contender,
  counts: readonly number[],
  fdLimit: number,
  progress: (line: string) => void,
): Promise<MemoryPoint[]> {
  const spec: HolderSpec = {
    ingress: {
      host: ADDR.ingress,
      port: relays.ingressPort,
      servername: INGRESS_NAME,
      caFile: relays.deployment.caCert,
    },
    issuer: {
      url: relays.issuerUrl,
      servername: ISSUER_NAME,
      credential: relays.deployment.issuer!.credential,
    },
    directoryFile: relays.deployment.directoryFile,
    operatorPublicKey: relays.deployment.operatorPublicKey,
    egressId: EGRESS_ID,
    localAddress: ADDR.client,
    concurrency: 16,
  };
  const specFile = join(relays.deployment.dir, 'holder.json');
  await writeFile(specFile, JSON.stringify(spec));
  const holder = await startProcess(
    'session-holder',
    process.execPath,
    ['--max-old-space-size=12288', HOLDER, specFile],
    { fdLimit, stdin: true, keepLines: 200, timeoutMs: 20_000 },
  );
  const pending: ((r: Record<string, unknown>) => void)[] = [];
  holder.onLine((line) => {
    if (line.startsWith('{"event":"held"'))
      pending.shift()?.(JSON.parse(line) as Record<string, unknown>);
  });
  const roles = { ...contender.roles(), client: [holder.pid] };
  try {
    await contender.collectGarbage();
    await sleep(1500);
    await contender.collectGarbage();
    const base = rolesMemory(roles);
    const points: MemoryPoint[] = [];
    for (const count of counts) {
      const answered = new Promise<Record<string, unknown>>((resolve) => pending.push(resolve));
      holder.process.stdin?.write(`${JSON.stringify({ open: count })}\n`);
      // Handshakes cost CPU on two cores: allow about 20 ms per session, plus a minute.
      const held = await Promise.race([
        answered,
        sleep(60_000 + count * 20).then(() => {
          throw new Error(`the session holder did not reach ${count} sessions in time`);
        }),
      ]);
      await contender.collectGarbage();
      await sleep(1000);
      const point = growth(
        count,
        Number(held.held),
        Number(held.failed),
        base,
        rolesMemory(roles),
        points[points.length - 1],
      );
      progress(
        `  splitrelay: ${point.opened} sessions${held.firstError ? ` (${point.failed} failed: ${String(held.firstError)})` : ''}: ingress ${point.perItemKiB.ingress.toFixed(1)} KiB/session, egress ${point.perItemKiB.egress.toFixed(1)} KiB/session${marginal(point)}`,
      );
      points.push(point);
    }
    return points;
  } finally {
    holder.process.stdin?.write(`${JSON.stringify({ close: true })}\n`);
    await sleep(500);
    await holder.stop();
    await sleep(2000);
  }
}

export async function sshSessionMemory(
  pair: SshdPair,
  sshConfigFile: string,
  contender: Contender,
  count: number,
  progress: (line: string) => void,
): Promise<MemoryPoint> {
  const roles = contender.roles();
  // The session clients did not exist before: their base is zero.
  const base = rolesMemory({ ...roles, client: [] });
  // One `sshd: root` process per authenticated session on the exit host (UsePAM no, -N).
  const exitSessions = (): number =>
    processTree(pair.exit.sshd.pid).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sshd: root');
      } catch {
        return false;
      }
    }).length;
  const exitBefore = exitSessions();
  const procs: RunningProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      procs.push(
        spawnProcess('ssh-session', 'ssh', [
          '-F',
          sshConfigFile,
          '-N',
          '-J',
          `root@${pair.jump.address}:${pair.jump.port}`,
          `root@${pair.exit.address}`,
          '-p',
          String(pair.exit.port),
        ]),
      );
      // A few at a time: sshd's MaxStartups and two cores.
      if (i % 8 === 7) await sleep(400);
    }
    // Wait until every ssh has its exit-host session up, bounded.
    const until = Date.now() + 30_000 + count * 200;
    while (Date.now() < until && exitSessions() - exitBefore < count) await sleep(200);
    await sleep(1000);
    const alive = procs.filter((p) => p.process.exitCode === null).length;
    const sshClients = procs.map((p) => p.pid);
    const point = growth(
      count,
      alive,
      count - alive,
      base,
      rolesMemory({ ...roles, client: sshClients }),
    );
    progress(
      `  ${contender.id}: ${alive} sessions: jump sshd ${point.perItemKiB.ingress.toFixed(0)} KiB/session (PSS ${point.perItemPssKiB.ingress.toFixed(0)}), exit sshd ${point.perItemKiB.egress.toFixed(0)} KiB/session (PSS ${point.perItemPssKiB.egress.toFixed(0)})`,
    );
    return point;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await sleep(1000);
  }
}
