/**
 * Deciding a target, in two steps around the one thing a core cannot do (resolve a name):
 *
 *   decideLiteral(target) ──▶ { action: 'connect', address }   IP literal, already checked
 *                         └─▶ { action: 'resolve', name }      shell resolves at the egress, then
 *   filterResolved(name, answers) ──▶ permitted addresses       connects only to those
 *
 * Why filter instead of refusing the whole name when one answer is prohibited: the check is
 * made on the very addresses the shell connects to, with no second lookup in between, so a
 * rebinding name (public answer now, private answer later, or both at once) can never get a
 * connection to the private one; while a name with one stray private record (split-horizon
 * leaks are common) still works through its public ones. Only when nothing is left is the
 * target refused.
 */
import { RelayError } from '@splitrelay/errors';
import { parseHost, isLocalhostName } from './host.ts';
import type { IpFamily } from './ip.ts';
import { formatIp } from './ip.ts';
import { checkPort, classifyAddress, refusalReason, type TargetPolicy } from './policy.ts';

export type TransportKind = 'tcp' | 'udp';

export interface Target {
  /** A DNS name, an IPv4 literal, or an IPv6 literal (with or without brackets). */
  readonly host: string;
  readonly port: number;
  readonly kind: TransportKind;
}

export interface PermittedAddress {
  /** Canonical text (dotted quad or RFC 5952), safe to hand to net.connect / dgram. */
  readonly address: string;
  readonly family: IpFamily;
}

export type TargetDecision =
  | ({
      readonly action: 'connect';
      readonly port: number;
      readonly kind: TransportKind;
    } & PermittedAddress)
  | {
      readonly action: 'resolve';
      readonly name: string;
      readonly port: number;
      readonly kind: TransportKind;
    };

/**
 * Checks the port, then the host: an IP literal is judged now; a name is refused if it is
 * malformed or a localhost name (RFC 6761), else handed back to be resolved.
 */
export function decideLiteral(policy: TargetPolicy, target: Target): TargetDecision {
  checkPort(policy, target.port);
  const host = parseHost(target.host);
  const { port, kind } = target;
  if (host.type === 'ip') {
    const address = formatIp(host.ip);
    const reason = refusalReason(policy, host.ip);
    if (reason !== undefined) {
      throw new RelayError(
        'target-prohibited',
        `destination ${address} is in a prohibited range (${reason})`,
      );
    }
    return { action: 'connect', address, family: host.ip.family, port, kind };
  }
  if (isLocalhostName(host.name)) {
    throw new RelayError(
      'target-prohibited',
      `destination ${host.name} is a loopback name (RFC 6761)`,
    );
  }
  return { action: 'resolve', name: host.name, port, kind };
}

/**
 * Keeps the resolver's answers the policy permits, in the resolver's order, without
 * duplicates. Throws 'dns-error' (NODATA) for no answers and 'target-prohibited' when every
 * answer is refused. The refused addresses themselves are not echoed: they may describe the
 * egress operator's internal network.
 */
export function filterResolved(
  policy: TargetPolicy,
  name: string,
  answers: readonly string[],
): PermittedAddress[] {
  if (answers.length === 0) throw new RelayError('dns-error', 'NODATA');
  const permitted: PermittedAddress[] = [];
  const reasons = new Set<string>();
  const seen = new Set<string>();
  for (const answer of answers) {
    const v = classifyAddress(policy, answer);
    if (!v.allowed) {
      reasons.add(v.reason);
    } else if (!seen.has(v.address)) {
      seen.add(v.address);
      permitted.push({ address: v.address, family: v.family });
    }
  }
  if (permitted.length === 0) {
    throw new RelayError(
      'target-prohibited',
      `destination ${name} resolves only to prohibited ranges (${[...reasons].join('; ')})`,
    );
  }
  return permitted;
}
