/** The namespaced backend: roles in their own namespaces, joined by the router (topology.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, RoleAddress } from './backend.ts';
import type { CaptureTarget } from './capture.ts';
import { findBinary, run } from './commands.ts';
import { listPids, namedNetnsInode, netnsInodeOf } from './proc.ts';
import type { Role } from './roles.ts';
import { firewallEvidenceSync, type Topology } from './topology.ts';

export function netnsBackend(topology: Topology): Backend {
  const limitations: string[] = [];
  if (topology.firewall === 'none') {
    limitations.push(
      'the router has no packet filter: reachability is enforced by routes only, which do not enforce direction (a role may open connections to every peer it has a route to for replies, e.g. the egress to the ingress), and a process that adds a route reaches a forbidden role',
    );
  }
  if (!topology.ipv6)
    limitations.push('IPv6 is disabled on this machine: roles have IPv4 addresses only');
  if (findBinary('tcpdump') === undefined)
    limitations.push('no captures: tcpdump is not installed');
  const linkOf = (role: Role) => topology.links.find((l) => l.role === role)!;
  return {
    mode: 'netns',
    firewall: topology.firewall,
    enforced: true,
    limitations,
    address(role): RoleAddress {
      const p = topology.plan[role];
      return { v4: p.v4.host, v6: topology.ipv6 ? p.v6.host : undefined };
    },
    namespace: (role) => topology.namespaces[role],
    links: () => topology.links,
    wrap: (role, command, args) => [
      findBinary('ip') ?? 'ip',
      ['netns', 'exec', topology.namespaces[role], command, ...args],
    ],
    captureTargets(link, ends): CaptureTarget[] {
      const l = linkOf(link);
      const targets: CaptureTarget[] = [];
      if (ends !== 'role')
        targets.push({ link, end: 'router', runsIn: 'router', iface: l.routerEnd.ifname });
      if (ends !== 'router')
        targets.push({ link, end: 'role', runsIn: link, iface: l.roleEnd.ifname });
      return targets;
    },
    sockets: {
      async runIn(role, command, args) {
        return (await run('ip', ['netns', 'exec', topology.namespaces[role], command, ...args]))
          .stdout;
      },
      pidsOf(role) {
        const ino = namedNetnsInode(topology.namespaces[role]);
        return ino === undefined ? [] : listPids().filter((pid) => netnsInodeOf(pid) === ino);
      },
      select: (_role, entries) => entries,
    },
    sourceFor: () => undefined,
    finalEvidenceSync(runDir) {
      writeFileSync(join(runDir, 'router-filter.txt'), firewallEvidenceSync(topology));
    },
  };
}
