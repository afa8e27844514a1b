/**
 * Which pool prefixes this host cannot send from, judged from its local routing table.
 *
 * A source address is usable when the kernel accepts packets for it as local, which is
 * exactly the `local` routes of table local: each configured address gets a host route
 * there, and a whole range bound without configuring its addresses ("AnyIP") is one route:
 *
 *   ip route add local 192.0.2.0/24 dev lo          ip -6 route add local 2001:db8:1::/64 dev lo
 *
 * The shell gathers the table with `ip -j -4 route show table local` and
 * `ip -j -6 route show table local` (or netlink RTM_GETROUTE for table 255) and hands the
 * parsed JSON to `localRoutesFromIpJson`. Binding with IP_FREEBIND or net.ipv6.ip_nonlocal_bind
 * would succeed without such a route, but replies would then reach the host only if the
 * upstream routes the prefix to it, which nothing on the host can check, so those prefixes
 * are reported here too. Upstream routing (the prefix announced or routed to this host) is
 * the operator's to check from outside.
 */
import {
  formatPrefix,
  parseAddress,
  parsePrefix,
  prefixEnd,
  type IpFamily,
  type Prefix,
} from './prefix.ts';
import type { AddressPools } from './pools.ts';
import type { PoolProblem } from './config.ts';

export interface UnusablePrefix {
  readonly region: string;
  readonly family: IpFamily;
  readonly prefix: string;
  /** 'not-local': no usable address of it is local; 'partly-local': some are, some not. */
  readonly reason: 'not-local' | 'partly-local';
}

/**
 * The `local` routes in `ip -j route show table local` output (one array or several
 * concatenated), as prefixes; a bare `dst` is a host route. Other route types and entries
 * that do not parse are skipped: this reads the kernel's own output, not hostile input.
 */
export function localRoutesFromIpJson(...outputs: unknown[]): Prefix[] {
  const out: Prefix[] = [];
  for (const output of outputs) {
    if (!Array.isArray(output)) continue;
    for (const route of output as unknown[]) {
      if (typeof route !== 'object' || route === null) continue;
      const { type, dst } = route as { type?: unknown; dst?: unknown };
      if (type !== 'local' || typeof dst !== 'string') continue;
      const p = localPrefix(dst);
      if (p !== undefined) out.push(p);
    }
  }
  return out;
}

function localPrefix(dst: string): Prefix | undefined {
  if (dst.includes('/')) {
    const r = parsePrefix(dst);
    return r.ok ? r.prefix : undefined;
  }
  const a = parseAddress(dst);
  return a === undefined
    ? undefined
    : { family: a.family, network: a.value, length: a.family === 4 ? 32 : 128 };
}

/** Sorted, merged [first, last] intervals of the routes of one family. */
function mergedIntervals(routes: readonly Prefix[], family: IpFamily): [bigint, bigint][] {
  const spans = routes
    .filter((r) => r.family === family)
    .map((r): [bigint, bigint] => [r.network, prefixEnd(r)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const merged: [bigint, bigint][] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last !== undefined && span[0] <= last[1] + 1n) {
      if (span[1] > last[1]) last[1] = span[1];
    } else {
      merged.push([span[0], span[1]]);
    }
  }
  return merged;
}

/** Addresses of [first, last] inside the merged intervals. */
function coveredCount(merged: readonly [bigint, bigint][], first: bigint, last: bigint): bigint {
  let n = 0n;
  for (const [a, b] of merged) {
    const lo = a > first ? a : first;
    const hi = b < last ? b : last;
    if (lo <= hi) n += hi - lo + 1n;
  }
  return n;
}

type Merged = Readonly<Record<IpFamily, [bigint, bigint][]>>;

function merge(localRoutes: readonly Prefix[]): Merged {
  return { 4: mergedIntervals(localRoutes, 4), 6: mergedIntervals(localRoutes, 6) };
}

/**
 * Why a prefix's usable addresses are not all local, or undefined when they are. For IPv4
 * only the addresses a draw can return count (not the network and broadcast of a /30 or
 * shorter).
 */
function localness(prefix: Prefix, merged: Merged): UnusablePrefix['reason'] | undefined {
  const trim = prefix.family === 4 && prefix.length <= 30 ? 1n : 0n;
  const first = prefix.network + trim;
  const last = prefixEnd(prefix) - trim;
  const covered = coveredCount(merged[prefix.family], first, last);
  if (covered === last - first + 1n) return undefined;
  return covered === 0n ? 'not-local' : 'partly-local';
}

/** Every pool prefix with usable addresses that are not local here. */
export function unusablePrefixes(
  pools: AddressPools,
  localRoutes: readonly Prefix[],
): UnusablePrefix[] {
  const merged = merge(localRoutes);
  const problems: UnusablePrefix[] = [];
  for (const region of pools.regions) {
    for (const pool of [region.ipv4, region.ipv6]) {
      if (pool === undefined) continue;
      for (const { prefix } of pool.prefixes) {
        const reason = localness(prefix, merged);
        if (reason === undefined) continue;
        problems.push({
          region: region.id,
          family: prefix.family,
          prefix: formatPrefix(prefix),
          reason,
        });
      }
    }
  }
  return problems;
}

/** The command that makes a whole prefix local on Linux (AnyIP), for error messages. */
export function anyIpCommand(prefix: string, family: IpFamily): string {
  return `ip ${family === 6 ? '-6 ' : ''}route add local ${prefix} dev lo`;
}

/**
 * The same check on a config that may not have passed validation yet, as problems with
 * their config paths, so a start-up reports a prefix missing from the host together with
 * every other problem of the file. Prefixes that do not parse, or are of the wrong family,
 * are left to `poolProblems`.
 */
export function hostRouteProblems(input: unknown, localRoutes: readonly Prefix[]): PoolProblem[] {
  const merged = merge(localRoutes);
  const problems: PoolProblem[] = [];
  const regions = (input as { regions?: unknown } | null)?.regions;
  if (!Array.isArray(regions)) return problems;
  regions.forEach((region: unknown, r) => {
    if (typeof region !== 'object' || region === null) return;
    for (const [key, family] of [
      ['ipv4', 4],
      ['ipv6', 6],
    ] as const) {
      const list = (region as Record<string, unknown>)[key];
      if (!Array.isArray(list)) continue;
      list.forEach((text: unknown, i) => {
        if (typeof text !== 'string') return;
        const parsed = parsePrefix(text);
        if (!parsed.ok || parsed.prefix.family !== family) return;
        const reason = localness(parsed.prefix, merged);
        if (reason === undefined) return;
        const canonical = formatPrefix(parsed.prefix);
        problems.push({
          path: ['regions', r, key, i],
          message: `${canonical} is ${reason === 'not-local' ? 'not' : 'only partly'} local on this host: bind it with \`${anyIpCommand(canonical, family)}\` or configure its addresses`,
        });
      });
    }
  });
  return problems;
}
