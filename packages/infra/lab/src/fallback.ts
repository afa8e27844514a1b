/**
 * The loopback fallback, for machines where the lab cannot make namespaces (not root, or the
 * kernel refused): the same interface, but every role is a distinct 127.x.y.z address on the
 * host's own stack (addresses.ts), and `limitations` says in words what that costs.
 */
import type { Backend, RoleAddress } from './backend.ts';
import { findBinary, run } from './commands.ts';
import { loopbackPlan } from './addresses.ts';
import { listPids, procStat } from './proc.ts';
import type { ProcessTable } from './processes.ts';
import type { Role } from './roles.ts';

const LOOPBACK_LIMITATIONS: readonly string[] = Object.freeze([
  'no network namespaces: every role shares the host network stack, so any process can reach any address and see every socket',
  'reachability is not enforced: there is no separate routing and no packet filter between roles, so verifyReachability reports every forbidden pair it could reach',
  'no IPv6 per role: roles have distinct IPv4 loopback addresses (127.x.y.z) only',
  'socket tables are host-wide: sockets are attributed to a role by its address or by the processes the lab started for it',
]);

export function loopbackBackend(
  idBytes: Uint8Array,
  processes: () => ProcessTable,
  reason: string,
): Backend {
  const plan = loopbackPlan(idBytes);
  const limitations = [`loopback fallback (${reason})`, ...LOOPBACK_LIMITATIONS];
  const root = process.getuid?.() === 0;
  if (findBinary('tcpdump') === undefined)
    limitations.push('no captures: tcpdump is not installed');
  else if (!root)
    limitations.push('no captures: tcpdump needs root (or capture capabilities) to open lo');
  else {
    limitations.push(
      "captures on lo with a host filter: a packet between two roles appears in both roles' pcaps, and a process sending from another source address escapes its role's filter",
    );
  }
  const pidsOf = (role: Role): number[] => {
    const leaders = new Set(
      processes()
        .all()
        .filter((p) => p.role === role)
        .map((p) => p.pid),
    );
    // The processes the lab started for the role and everything in their process groups.
    return listPids().filter((pid) => {
      const stat = procStat(pid);
      return stat !== undefined && (leaders.has(pid) || leaders.has(stat.pgid));
    });
  };
  return {
    mode: 'loopback',
    firewall: 'none',
    enforced: false,
    limitations,
    address: (role): RoleAddress => ({ v4: plan[role], v6: undefined }),
    namespace: () => undefined,
    links: () => [],
    wrap: (_role, command, args) => [command, [...args]],
    captureTargets: (link) => [
      { link, end: 'lo', runsIn: link, iface: 'lo', filter: `host ${plan[link]}` },
    ],
    sockets: {
      async runIn(_role, command, args) {
        return (await run(command, args)).stdout;
      },
      pidsOf,
      select(role, entries) {
        const pids = new Set(pidsOf(role));
        return entries.filter(
          (e) => e.local.address === plan[role] || e.owners.some((o) => pids.has(o.pid)),
        );
      },
    },
    sourceFor: (role, family) => (family === 4 ? plan[role] : undefined),
    finalEvidenceSync() {
      // Nothing between the roles keeps counters.
    },
  };
}
