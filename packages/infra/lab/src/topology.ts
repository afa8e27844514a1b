/**
 * The namespaced lab: one network namespace per role and a router namespace joining them, one
 * veth pair per role, drawn here with the address plan of addresses.ts:
 *
 *      client ─┐                               ┌─ target
 *     ingress ─┤      ┌──────────────────┐     ├─ dns
 *      egress ─┼──────┤ router (forwards,│─────┤
 *      issuer ─┤      │ filters by link) │     └─ nats
 *                     └──────────────────┘
 *
 * Each veth is created directly inside its two namespaces (never in the host's), so a crash
 * mid-build leaves nothing in the host namespace. Forwarding is switched on in the router and
 * explicitly off in every role (a new namespace may inherit the host's setting). Each role gets
 * routes only to the subnets of the peers the reachability matrix pairs it with, no default
 * route, and the router's packet filter forwards new connections only in allowed directions.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addressPlan, cidr, type AddressPlan } from './addresses.ts';
import { findBinary, run, runSync } from './commands.ts';
import { iptablesRules, nftRuleset, type FirewallKind } from './firewall.ts';
import { LabError } from './lab-error.ts';
import type { Manifest } from './manifest.ts';
import { netnsName, roleIfname, routerIfname } from './names.ts';
import { mayOpen, routedPeers, type ReachabilityMatrix } from './reachability.ts';
import { ROLES, type Role } from './roles.ts';

export interface LinkEnd {
  readonly netns: string;
  readonly ifname: string;
}

export interface LinkInfo {
  /** A link is named for the role it joins to the router. */
  readonly role: Role;
  readonly roleEnd: LinkEnd;
  readonly routerEnd: LinkEnd;
}

export interface Topology {
  readonly plan: AddressPlan;
  readonly ipv6: boolean;
  readonly firewall: FirewallKind;
  readonly namespaces: Readonly<Record<Role | 'router', string>>;
  readonly links: readonly LinkInfo[];
}

export interface BuildOptions {
  readonly id: string;
  readonly manifest: Manifest;
  readonly runDir: string;
  readonly matrix: ReachabilityMatrix;
  readonly firewall: 'auto' | FirewallKind;
  /** Point the resolver of roles that may reach the dns role at it (/etc/netns/<ns>/resolv.conf). */
  readonly resolvConf: boolean;
}

export const ETC_NETNS = '/etc/netns';

function chooseFirewall(wanted: 'auto' | FirewallKind): FirewallKind {
  const nft = findBinary('nft') !== undefined;
  const ipt = findBinary('iptables') !== undefined && findBinary('ip6tables') !== undefined;
  if (wanted === 'auto') return nft ? 'nftables' : ipt ? 'iptables' : 'none';
  if ((wanted === 'nftables' && !nft) || (wanted === 'iptables' && !ipt)) {
    throw new LabError('invalid-spec', `${wanted} was asked for but is not installed`);
  }
  return wanted;
}

export async function buildTopology(options: BuildOptions): Promise<Topology> {
  const { id, manifest, matrix } = options;
  const plan = addressPlan();
  const ipv6 = existsSync('/proc/net/if_inet6');
  const firewall = chooseFirewall(options.firewall);
  const router = netnsName(id, 'router');
  const namespaces = { router } as Record<Role | 'router', string>;
  for (const role of ROLES) namespaces[role] = netnsName(id, role);
  const links = ROLES.map((role) => ({
    role,
    roleEnd: { netns: namespaces[role], ifname: roleIfname(id, role) },
    routerEnd: { netns: router, ifname: routerIfname(id, role) },
  }));
  const ip = (...args: string[]): Promise<unknown> => run('ip', args);

  // Namespaces first, each recorded before it exists; sysctls before any link, so the links
  // are born with the namespace's defaults (no router solicitations from the roles).
  await Promise.all(
    (['router', ...ROLES] as const).map(async (role) => {
      const ns = namespaces[role];
      manifest.append({ t: 'netns', name: ns, role });
      await ip('netns', 'add', ns);
      await run('ip', ['netns', 'exec', ns, 'sh', '-c', sysctlScript(role === 'router', ipv6)]);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }),
  );

  await Promise.all(
    links.map(async ({ role, roleEnd, routerEnd }) => {
      const p = plan[role];
      manifest.append({
        t: 'link',
        name: roleEnd.ifname,
        netns: roleEnd.netns,
        peer: routerEnd.ifname,
        peerNetns: routerEnd.netns,
      });
      await ip(
        'link',
        'add',
        roleEnd.ifname,
        'netns',
        roleEnd.netns,
        'type',
        'veth',
        'peer',
        'name',
        routerEnd.ifname,
        'netns',
        routerEnd.netns,
      );
      await ip(
        '-n',
        roleEnd.netns,
        'addr',
        'add',
        `${p.v4.host}/${p.v4.prefixLength}`,
        'dev',
        roleEnd.ifname,
      );
      await ip(
        '-n',
        router,
        'addr',
        'add',
        `${p.v4.router}/${p.v4.prefixLength}`,
        'dev',
        routerEnd.ifname,
      );
      if (ipv6) {
        // nodad: usable at once, instead of after a second of duplicate address detection.
        await ip(
          '-n',
          roleEnd.netns,
          '-6',
          'addr',
          'add',
          `${p.v6.host}/${p.v6.prefixLength}`,
          'dev',
          roleEnd.ifname,
          'nodad',
        );
        await ip(
          '-n',
          router,
          '-6',
          'addr',
          'add',
          `${p.v6.router}/${p.v6.prefixLength}`,
          'dev',
          routerEnd.ifname,
          'nodad',
        );
      }
      await ip('-n', roleEnd.netns, 'link', 'set', roleEnd.ifname, 'up');
      await ip('-n', router, 'link', 'set', routerEnd.ifname, 'up');
      for (const peer of routedPeers(matrix, role)) {
        await ip('-n', roleEnd.netns, 'route', 'add', cidr(plan[peer].v4), 'via', p.v4.router);
        if (ipv6)
          await ip(
            '-n',
            roleEnd.netns,
            '-6',
            'route',
            'add',
            cidr(plan[peer].v6),
            'via',
            p.v6.router,
          );
      }
    }),
  );

  const routerLinks = {} as Record<Role, string>;
  for (const l of links) routerLinks[l.role] = l.routerEnd.ifname;
  if (firewall === 'nftables') {
    manifest.append({ t: 'firewall', kind: 'nftables', netns: router });
    await run('ip', ['netns', 'exec', router, 'nft', '-f', '-'], {
      input: nftRuleset(matrix, routerLinks),
    });
  } else if (firewall === 'iptables') {
    manifest.append({ t: 'firewall', kind: 'iptables', netns: router });
    for (const rule of iptablesRules(matrix, routerLinks)) {
      await run('ip', ['netns', 'exec', router, 'iptables', ...rule]);
      if (ipv6) await run('ip', ['netns', 'exec', router, 'ip6tables', ...rule]);
    }
  }

  if (options.resolvConf) {
    for (const role of ROLES) {
      if (!mayOpen(matrix, role, 'dns')) continue;
      const dir = join(ETC_NETNS, namespaces[role]);
      manifest.append({ t: 'path', path: dir });
      mkdirSync(dir, { recursive: true });
      const servers = [plan.dns.v4.host, ...(ipv6 ? [plan.dns.v6.host] : [])];
      writeFileSync(join(dir, 'resolv.conf'), servers.map((s) => `nameserver ${s}\n`).join(''));
    }
  }

  const topology: Topology = { plan, ipv6, firewall, namespaces, links };
  await writeTopologyEvidence(options.runDir, topology);
  return topology;
}

function sysctlScript(router: boolean, ipv6: boolean): string {
  const on = router ? 1 : 0;
  const lines = [`echo ${on} > /proc/sys/net/ipv4/ip_forward`];
  if (ipv6) {
    lines.push(`echo ${on} > /proc/sys/net/ipv6/conf/all/forwarding`);
    lines.push('echo 0 > /proc/sys/net/ipv6/conf/default/router_solicitations');
  }
  return lines.join(' && ');
}

/** What the kernel says it built: addresses, routes and forwarding of every namespace. */
async function writeTopologyEvidence(runDir: string, topology: Topology): Promise<void> {
  const dir = join(runDir, 'topology');
  mkdirSync(dir, { recursive: true });
  await Promise.all(
    (Object.entries(topology.namespaces) as [Role | 'router', string][]).map(async ([role, ns]) => {
      const json = async (...args: string[]): Promise<unknown> =>
        JSON.parse((await run('ip', ['-n', ns, '-j', ...args])).stdout || '[]');
      const forwarding = (
        await run('ip', [
          'netns',
          'exec',
          ns,
          'cat',
          '/proc/sys/net/ipv4/ip_forward',
          ...(topology.ipv6 ? ['/proc/sys/net/ipv6/conf/all/forwarding'] : []),
        ])
      ).stdout
        .trim()
        .split('\n');
      const evidence = {
        role,
        netns: ns,
        forwarding: { ipv4: forwarding[0] === '1', ipv6: forwarding[1] === '1' },
        addresses: await json('addr', 'show'),
        routes4: await json('-4', 'route', 'show'),
        routes6: topology.ipv6 ? await json('-6', 'route', 'show') : [],
      };
      writeFileSync(join(dir, `${role}.json`), `${JSON.stringify(evidence, null, 2)}\n`);
    }),
  );
}

/** The router's filter as it stands, with its counters (forbidden attempts show up there). */
export function firewallEvidenceSync(topology: Topology): string {
  const router = topology.namespaces.router;
  const inRouter = (...args: string[]): string =>
    runSync('ip', ['netns', 'exec', router, ...args], { allowFailure: true }).stdout;
  if (topology.firewall === 'nftables') return inRouter('nft', 'list', 'ruleset');
  if (topology.firewall === 'iptables') {
    const v4 = inRouter('iptables', '-L', 'FORWARD', '-v', '-n');
    const v6 = topology.ipv6 ? inRouter('ip6tables', '-L', 'FORWARD', '-v', '-n') : '';
    return `# iptables\n${v4}\n# ip6tables\n${v6}`;
  }
  return '# no packet filter in the router\n';
}
