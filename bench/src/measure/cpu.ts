/** CPU seconds spent by each role's processes between two snapshots. */
import { treeCpuSeconds } from '@splitrelay/local-deployment';
import type { RolePids } from '../contenders/types.ts';

export interface RoleCpu {
  readonly client: number;
  readonly ingress: number;
  readonly egress: number;
}

export function cpuSnapshot(roles: RolePids): RoleCpu {
  return {
    client: treeCpuSeconds(roles.client),
    ingress: treeCpuSeconds(roles.ingress),
    egress: treeCpuSeconds(roles.egress),
  };
}

export function cpuDelta(before: RoleCpu, after: RoleCpu): RoleCpu {
  return {
    client: after.client - before.client,
    ingress: after.ingress - before.ingress,
    egress: after.egress - before.egress,
  };
}
