/**
 * Resident memory per open idle flow: open flows to the target's hold port (one byte echoed,
 * so each is established end to end), then read each role's VmRSS after a GC, at each count.
 * Growth is measured from the contender's state before the first flow.
 */
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Contender } from '../contenders/types.ts';
import { treePssKiB, treeRssKiB } from '@splitrelay/local-deployment';
import { withTimeout, type TargetInfo } from './tls-flow.ts';

export interface MemoryPoint {
  readonly count: number;
  /** How many were actually open when memory was read. */
  readonly opened: number;
  readonly failed: number;
  /** KiB of VmRSS growth per item, per role. */
  readonly perItemKiB: RoleKiB;
  /** The same from PSS (shared pages split among sharers); differs from RSS for forked sshd trees. */
  readonly perItemPssKiB: RoleKiB;
  readonly rssKiB: RoleKiB;
  /**
   * RSS growth per item between the previous count and this one: free of the offset that
   * whatever ran before leaves in the allocator (buffers of bulk runs returned late).
   */
  readonly marginalKiB?: RoleKiB;
  /** Raw readings, to recompute anything. */
  readonly memory: RoleMemory;
}

export interface RoleKiB {
  readonly client: number;
  readonly ingress: number;
  readonly egress: number;
}

export interface RoleMemory {
  readonly rss: RoleKiB;
  readonly pss: RoleKiB;
}

export function rolesMemory(roles: ReturnType<Contender['roles']>): RoleMemory {
  return {
    rss: {
      client: treeRssKiB(roles.client),
      ingress: treeRssKiB(roles.ingress),
      egress: treeRssKiB(roles.egress),
    },
    pss: {
      client: treePssKiB(roles.client),
      ingress: treePssKiB(roles.ingress),
      egress: treePssKiB(roles.egress),
    },
  };
}

export function growth(
  count: number,
  opened: number,
  failed: number,
  base: RoleMemory,
  now: RoleMemory,
  previous?: MemoryPoint,
): MemoryPoint {
  const per = (a: RoleKiB, b: RoleKiB, n: number): RoleKiB => {
    const one = (k: keyof RoleKiB): number => (n > 0 ? (b[k] - a[k]) / n : Number.NaN);
    return { client: one('client'), ingress: one('ingress'), egress: one('egress') };
  };
  return {
    count,
    opened,
    failed,
    perItemKiB: per(base.rss, now.rss, opened),
    perItemPssKiB: per(base.pss, now.pss, opened),
    rssKiB: now.rss,
    ...(previous
      ? { marginalKiB: per(previous.memory.rss, now.rss, opened - previous.opened) }
      : {}),
    memory: now,
  };
}

export function marginal(p: MemoryPoint): string {
  const m = p.marginalKiB;
  return m
    ? ` (since the previous count: ingress ${m.ingress.toFixed(2)}, egress ${m.egress.toFixed(2)} KiB each)`
    : '';
}

async function openIdle(contender: Contender, target: TargetInfo): Promise<Duplex> {
  const stream = await contender.openStream(target.holdPort);
  stream.on('error', () => {});
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      stream.once('data', () => resolve());
      stream.once('close', () => reject(new Error('idle flow closed')));
      // The SOCKS client hands over a paused socket.
      stream.resume();
      stream.write(Uint8Array.of(0x2a));
    }),
    15_000,
    'idle flow echo',
    () => stream.destroy(),
  );
  stream.pause();
  return stream;
}

export async function idleFlowMemory(
  contender: Contender,
  target: TargetInfo,
  counts: readonly number[],
  progress: (line: string) => void,
): Promise<MemoryPoint[]> {
  const roles = contender.roles();
  await contender.collectGarbage();
  await sleep(1500);
  await contender.collectGarbage();
  const base = rolesMemory(roles);
  const flows: Duplex[] = [];
  const points: MemoryPoint[] = [];
  let failed = 0;
  try {
    for (const count of counts) {
      let wanted = count - flows.length;
      const worker = async (): Promise<void> => {
        while (wanted > 0 && failed <= Math.max(50, count / 20)) {
          wanted--;
          try {
            flows.push(await openIdle(contender, target));
          } catch {
            failed++;
          }
        }
      };
      await Promise.all(Array.from({ length: 64 }, worker));
      await contender.collectGarbage();
      await sleep(1000);
      const point = growth(
        count,
        flows.length,
        failed,
        base,
        rolesMemory(roles),
        points[points.length - 1],
      );
      progress(
        `  ${contender.id}: ${flows.length} idle flows: ingress ${point.perItemKiB.ingress.toFixed(2)} KiB/flow, egress ${point.perItemKiB.egress.toFixed(2)} KiB/flow${marginal(point)}`,
      );
      points.push(point);
    }
  } finally {
    for (const f of flows) f.destroy();
    // Let the relays see the closes before anything else is measured.
    await sleep(Math.min(5000, 500 + flows.length / 4));
  }
  return points;
}
