/**
 * The egress's target policy: which addresses and ports it may open flows to.
 *
 * Precedence, strongest first:
 *   1. operator `denyCidrs`  — always refuse (also when they contain the IPv4 inside an
 *      IPv4-mapped, NAT64, 6to4 or IPv4-translated address);
 *   2. operator `allowCidrs` — permit, overriding the built-in ranges only;
 *   3. built-in ranges (ranges.ts) — refuse, naming the range;
 *   4. everything else (public unicast) — permit.
 * So an operator can open 127.0.0.0/8 for tests and still carve 127.0.0.53 out of it, and an
 * allow entry can never reopen something another operator entry closed.
 *
 * Addresses with an IPv4 inside (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4,
 * IPv4-translated) are refused unless an operator allow entry contains the IPv6 address itself
 * (e.g. 64:ff9b::/96 on a DNS64 network, ::ffff:127.0.0.0/104 for a test), and even then
 * a.b.c.d must be permitted on its own, because that is where the bytes finally go.
 * IPv4-mapped gets no exception: no legitimate client names a mapped address, and refusing
 * it by default removes a whole class of filter bypasses (the kernel connects to a.b.c.d, so
 * a filter that forgets the mapping is a filter that can be walked around).
 */
import { RelayError } from '@splitrelay/errors';
import { anyContains, parseCidr, type Cidr } from './cidr.ts';
import { formatIp, parseIp, type IpAddress, type IpFamily } from './ip.ts';
import {
  compilePorts,
  isPortNumber,
  portsContain,
  type PortRanges,
  type PortSpec,
} from './ports.ts';
import { builtinMatch, embeddedIPv4 } from './ranges.ts';

export interface TargetPolicyConfig {
  /** CIDRs (or single addresses) the egress may reach even inside built-in ranges. */
  readonly allowCidrs?: readonly string[];
  /** CIDRs the egress must never reach, whatever else says. */
  readonly denyCidrs?: readonly string[];
  /** When present, only these ports (single or inclusive [low, high]). Default: 1-65535. */
  readonly allowPorts?: readonly PortSpec[];
  /** Ports never allowed, even if `allowPorts` names them. */
  readonly denyPorts?: readonly PortSpec[];
}

export interface TargetPolicy {
  readonly allowCidrs: readonly Cidr[];
  readonly denyCidrs: readonly Cidr[];
  /** undefined: every port 1-65535. */
  readonly allowPorts: PortRanges | undefined;
  readonly denyPorts: PortRanges;
}

const configKeys = new Set(['allowCidrs', 'denyCidrs', 'allowPorts', 'denyPorts']);

/**
 * Validates and compiles a policy once, at startup. Every problem is reported together in
 * one RelayError('config-invalid'); unknown keys are problems too (a misspelt "denyCidr"
 * must not silently deny nothing).
 */
export function compilePolicy(config: TargetPolicyConfig = {}): TargetPolicy {
  const problems: string[] = [];
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new RelayError('config-invalid', 'target policy: expected an object');
  }
  for (const key of Object.keys(config)) {
    if (!configKeys.has(key)) problems.push(`unknown key "${key}"`);
  }
  const raw = config as Record<string, unknown>;
  const allowCidrs = compileCidrs('allowCidrs', raw.allowCidrs, problems);
  const denyCidrs = compileCidrs('denyCidrs', raw.denyCidrs, problems);
  const allowPorts =
    raw.allowPorts === undefined ? undefined : compilePorts('allowPorts', raw.allowPorts, problems);
  const denyPorts =
    raw.denyPorts === undefined ? [] : compilePorts('denyPorts', raw.denyPorts, problems);
  if (problems.length > 0) {
    throw new RelayError('config-invalid', `target policy: ${problems.join('; ')}`);
  }
  return Object.freeze({ allowCidrs, denyCidrs, allowPorts, denyPorts: Object.freeze(denyPorts) });
}

function compileCidrs(field: string, value: unknown, problems: string[]): readonly Cidr[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) {
    problems.push(`${field}: expected an array of CIDR strings`);
    return Object.freeze([]);
  }
  const out: Cidr[] = [];
  value.forEach((item: unknown, i) => {
    if (typeof item !== 'string') {
      problems.push(`${field}[${i}]: expected a string, got ${JSON.stringify(item)}`);
      return;
    }
    const text = item.trim();
    const r = parseCidr(text);
    if (r.ok) out.push(Object.freeze(r.cidr));
    else problems.push(`${field}[${i}]: "${text}" ${r.problem}`);
  });
  return Object.freeze(out);
}

/** Throws unless the port is a valid destination port that the policy allows. */
export function checkPort(policy: TargetPolicy, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RelayError('malformed-request', `port ${String(port)} is not a valid port`);
  }
  if (!isPortNumber(port)) throw new RelayError('port-prohibited', 'port 0 is not a destination');
  const allowed =
    (policy.allowPorts === undefined || portsContain(policy.allowPorts, port)) &&
    !portsContain(policy.denyPorts, port);
  if (!allowed) throw new RelayError('port-prohibited', `port ${port} is not allowed`);
}

const operatorDeny = 'denied by operator';

/** The reason an address is refused, or undefined when it is permitted. */
export function refusalReason(policy: TargetPolicy, ip: IpAddress): string | undefined {
  if (anyContains(policy.denyCidrs, ip)) return operatorDeny;
  const embedded = embeddedIPv4(ip);
  if (embedded !== undefined) {
    // Checked before the allow list so that allowing the IPv6 prefix never reopens an IPv4
    // the policy refuses; the built-in row for the prefix then refuses what is not allowed.
    const inner = refusalReason(policy, embedded.v4);
    if (inner !== undefined) return `${embedded.label}, ${inner}`;
  }
  if (anyContains(policy.allowCidrs, ip)) return undefined;
  return builtinMatch(ip)?.reason;
}

export type AddressVerdict =
  | { readonly allowed: true; readonly address: string; readonly family: IpFamily }
  | { readonly allowed: false; readonly address: string; readonly reason: string };

/** Non-throwing form of `checkAddress`, for filtering resolver answers. */
export function classifyAddress(policy: TargetPolicy, ipText: string): AddressVerdict {
  const ip = parseIp(ipText);
  // Resolvers hand back text; anything that is not a plain address (a zone id included) is
  // not something we can vouch for.
  if (ip === undefined)
    return { allowed: false, address: ipText, reason: 'not a plain IP address' };
  const address = formatIp(ip);
  const reason = refusalReason(policy, ip);
  return reason === undefined
    ? { allowed: true, address, family: ip.family }
    : { allowed: false, address, reason };
}

/** Throws RelayError('target-prohibited') unless the policy permits the address. */
export function checkAddress(
  policy: TargetPolicy,
  ipText: string,
): { readonly address: string; readonly family: IpFamily } {
  const v = classifyAddress(policy, ipText);
  if (!v.allowed) {
    throw new RelayError(
      'target-prohibited',
      `destination ${v.address} is in a prohibited range (${v.reason})`,
    );
  }
  return { address: v.address, family: v.family };
}
