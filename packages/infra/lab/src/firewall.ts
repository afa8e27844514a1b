/**
 * The router's packet filter, written from the reachability matrix: a second wall behind the
 * routes, so a namespace that gains a route (a process adding one, a test doing so on purpose)
 * still cannot open a forbidden connection through the router.
 *
 * nftables (preferred; one `inet` table covers IPv4 and IPv6):
 *
 *   table inet splitrelay_lab {
 *     chain forward {
 *       type filter hook forward priority filter; policy drop;
 *       ct state established,related accept
 *       iifname "<client link>" oifname "<ingress link>" ct state new counter accept comment "client->ingress"
 *       ...one line per allowed pair...
 *       counter drop comment "forbidden"
 *     }
 *   }
 *
 * iptables/ip6tables (when only those exist): the same chain as rules of the FORWARD chain with
 * policy DROP and conntrack matches. The interfaces are the router ends of the links, so a
 * flow is recognised by the link it arrives on, not by a source address anyone could forge.
 */
import { expectedPairs, type ReachabilityMatrix } from './reachability.ts';
import type { Role } from './roles.ts';

export type FirewallKind = 'nftables' | 'iptables' | 'none';

export const NFT_TABLE = 'splitrelay_lab';

/** The router-end interface of each role's link. */
export type RouterLinks = Readonly<Record<Role, string>>;

export function nftRuleset(matrix: ReachabilityMatrix, links: RouterLinks): string {
  const lines = [
    `table inet ${NFT_TABLE} {`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy drop;',
    '    ct state established,related accept',
  ];
  for (const { from, to, allowed } of expectedPairs(matrix)) {
    if (!allowed) continue;
    lines.push(
      `    iifname "${links[from]}" oifname "${links[to]}" ct state new counter accept comment "${from}->${to}"`,
    );
  }
  lines.push('    counter drop comment "forbidden"', '  }', '}', '');
  return lines.join('\n');
}

/** Argument lists for `iptables` (and the same for `ip6tables`), in order. */
export function iptablesRules(matrix: ReachabilityMatrix, links: RouterLinks): string[][] {
  const rules: string[][] = [
    ['-P', 'FORWARD', 'DROP'],
    ['-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'],
  ];
  for (const { from, to, allowed } of expectedPairs(matrix)) {
    if (!allowed) continue;
    rules.push([
      '-A',
      'FORWARD',
      '-i',
      links[from],
      '-o',
      links[to],
      '-m',
      'conntrack',
      '--ctstate',
      'NEW',
      '-m',
      'comment',
      '--comment',
      `${from}->${to}`,
      '-j',
      'ACCEPT',
    ]);
  }
  return rules;
}
