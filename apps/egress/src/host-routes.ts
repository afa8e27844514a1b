/**
 * What the egress needs of this host to send from its pools, read the way an operator would
 * check it: the local routes (`ip -j -4 route show table local`, `ip -j -6 route show table
 * local`), for every pool address must be local (configured, or bound as AnyIP), and
 * net.ipv6.ip_nonlocal_bind, without which Linux binds no IPv6 AnyIP address.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { localRoutesFromIpJson, type Prefix } from '@splitrelay/egress-addresses';
import type { HostFacts } from './config.ts';

export type RunIp = (args: readonly string[]) => string;

const runIp: RunIp = (args) =>
  execFileSync('ip', [...args], {
    encoding: 'utf8',
    timeout: 5000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

/** The local routes, or why they could not be read (one line, for the config problems). */
export function readLocalRoutes(run: RunIp = runIp): readonly Prefix[] | string {
  try {
    const v4: unknown = JSON.parse(run(['-j', '-4', 'route', 'show', 'table', 'local']));
    // A host without IPv6 prints nothing at all here.
    const v6text = run(['-j', '-6', 'route', 'show', 'table', 'local']).trim();
    const v6: unknown = v6text === '' ? [] : JSON.parse(v6text);
    return localRoutesFromIpJson(v4, v6);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0];
    return `cannot read this host's local routes with \`ip -j route show table local\` (${String(reason)}): install iproute2`;
  }
}

/** net.ipv6.ip_nonlocal_bind of this network namespace (false where IPv6 is absent). */
export function readIpv6NonlocalBind(
  read: () => string = () => readFileSync('/proc/sys/net/ipv6/ip_nonlocal_bind', 'utf8'),
): boolean {
  try {
    return read().trim() === '1';
  } catch {
    return false;
  }
}

export function readHostFacts(): HostFacts | string {
  const localRoutes = readLocalRoutes();
  if (typeof localRoutes === 'string') return localRoutes;
  return { localRoutes, ipv6NonlocalBind: readIpv6NonlocalBind() };
}
