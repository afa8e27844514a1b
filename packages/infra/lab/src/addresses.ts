/**
 * The address plan: which subnet and which addresses each role gets. Pure, so the plan can be
 * checked without a kernel and the auditor can print it beside the evidence.
 *
 * Namespaced labs number hosts only from the documentation ranges (RFC 5737 for IPv4, RFC 3849
 * for IPv6), grouped by which side of the relay a role stands on:
 *
 *   role     IPv4 subnet          router          host            IPv6 subnet          host
 *   client   192.0.2.0/28         192.0.2.1       192.0.2.2       2001:db8:0:1::/64    ::2
 *   ingress  198.51.100.0/28      198.51.100.1    198.51.100.2    2001:db8:0:2::/64    ::2
 *   egress   198.51.100.16/28     198.51.100.17   198.51.100.18   2001:db8:0:3::/64    ::2
 *   issuer   198.51.100.32/28     198.51.100.33   198.51.100.34   2001:db8:0:4::/64    ::2
 *   nats     198.51.100.48/28     198.51.100.49   198.51.100.50   2001:db8:0:5::/64    ::2
 *   target   203.0.113.0/28       203.0.113.1     203.0.113.2     2001:db8:0:6::/64    ::2
 *   dns      203.0.113.16/28      203.0.113.17    203.0.113.18    2001:db8:0:7::/64    ::2
 *
 * (The router's IPv6 address on each subnet is ::1.) Every lab uses the same plan: its
 * namespaces are its own, so equal addresses in two labs never meet.
 *
 * The loopback fallback has no namespaces, so roles share one stack and must not share
 * addresses with another lab: each lab takes 127.<100 + b0 % 100>.<b1>.<role number> from its
 * run id bytes, away from the 127.0.x.y addresses the project's tests use.
 */
import { ROLES, type Role } from './roles.ts';

export interface Subnet {
  /** Network address, e.g. "198.51.100.16". */
  readonly network: string;
  readonly prefixLength: number;
  /** The router's address on this subnet (the role's gateway). */
  readonly router: string;
  /** The role's own address. */
  readonly host: string;
}

export interface RolePlan {
  readonly role: Role;
  readonly v4: Subnet;
  readonly v6: Subnet;
}

export type AddressPlan = Readonly<Record<Role, RolePlan>>;

const V4_PLAN: Readonly<Record<Role, string>> = {
  client: '192.0.2.0',
  ingress: '198.51.100.0',
  egress: '198.51.100.16',
  issuer: '198.51.100.32',
  nats: '198.51.100.48',
  target: '203.0.113.0',
  dns: '203.0.113.16',
};
const V4_PREFIX = 28;
const V6_PREFIX = 64;

export function addressPlan(): AddressPlan {
  const plan = {} as Record<Role, RolePlan>;
  ROLES.forEach((role, i) => {
    const network = V4_PLAN[role];
    const base = ipv4ToNumber(network);
    const v6net = `2001:db8:0:${(i + 1).toString(16)}::`;
    plan[role] = Object.freeze({
      role,
      v4: Object.freeze({
        network,
        prefixLength: V4_PREFIX,
        router: numberToIpv4(base + 1),
        host: numberToIpv4(base + 2),
      }),
      v6: Object.freeze({
        network: v6net,
        prefixLength: V6_PREFIX,
        router: `${v6net}1`,
        host: `${v6net}2`,
      }),
    });
  });
  return Object.freeze(plan);
}

/** "198.51.100.16/28" */
export function cidr(subnet: Subnet): string {
  return `${subnet.network}/${subnet.prefixLength}`;
}

/** One 127.x.y.z per role, distinct for labs with different run ids (see the header). */
export function loopbackPlan(idBytes: Uint8Array): Readonly<Record<Role, string>> {
  const b0 = idBytes[0] ?? 0;
  const b1 = idBytes[1] ?? 0;
  const plan = {} as Record<Role, string>;
  ROLES.forEach((role, i) => {
    plan[role] = `127.${100 + (b0 % 100)}.${b1}.${i + 1}`;
  });
  return Object.freeze(plan);
}

/** The three run-id bytes back from "sra-1a2b3c". */
export function idBytes(id: string): Uint8Array {
  return Uint8Array.from(Buffer.from(id.slice(4, 10), 'hex'));
}

export function ipv4ToNumber(address: string): number {
  const parts = address.split('.');
  if (parts.length !== 4) throw new RangeError(`not an IPv4 address: ${address}`);
  let n = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) {
      throw new RangeError(`not an IPv4 address: ${address}`);
    }
    n = n * 256 + Number(part);
  }
  return n;
}

export function numberToIpv4(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not an IPv4 number`);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Whether an IPv4 address lies in network/prefixLength. */
export function ipv4InSubnet(address: string, network: string, prefixLength: number): boolean {
  const size = 2 ** (32 - prefixLength);
  const start = ipv4ToNumber(network);
  const a = ipv4ToNumber(address);
  return a >= start && a < start + size;
}
