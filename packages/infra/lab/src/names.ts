/**
 * Every name a lab gives the kernel carries its run id, so two labs never clash and a sweep can
 * tell a lab's leftovers from everything else on the machine.
 *
 *   run id          sra-1a2b3c                    ("sra-" + 6 lower-case hex digits)
 *   namespace       sra-1a2b3c-client, ...        (one per role) and sra-1a2b3c-router
 *   role end veth   sra1a2b3c-cl                  (inside the role's namespace)
 *   router end veth sra1a2b3c-rcl                 (inside the router namespace)
 *
 * Interface names drop the first dash because Linux allows 15 characters (IFNAMSIZ - 1).
 */
import { ROLE_CODES, type Role } from './roles.ts';

export const LAB_ID_PATTERN = /^sra-[0-9a-f]{6}$/;
const NETNS_PATTERN = /^(sra-[0-9a-f]{6})-[a-z]+$/;
const IFNAME_PATTERN = /^sra([0-9a-f]{6})-r?[a-z]{2}$/;

/** Environment variables every lab process carries, so a sweep finds it even outside a namespace. */
export const LAB_ID_ENV = 'SPLITRELAY_LAB';
export const LAB_MANIFEST_ENV = 'SPLITRELAY_LAB_MANIFEST';

/** A run id from three random bytes (the rng is injected so tests can pick the id). */
export function labId(bytes: Uint8Array): string {
  if (bytes.length < 3) throw new RangeError('a lab id needs three random bytes');
  return `sra-${Buffer.from(bytes.subarray(0, 3)).toString('hex')}`;
}

export function netnsName(id: string, role: Role | 'router'): string {
  return `${id}-${role}`;
}

export function roleIfname(id: string, role: Role): string {
  return `${id.replace('-', '')}-${ROLE_CODES[role]}`;
}

export function routerIfname(id: string, role: Role): string {
  return `${id.replace('-', '')}-r${ROLE_CODES[role]}`;
}

/** The lab a namespace name belongs to, or undefined when it is not a lab's. */
export function labOfNetns(name: string): string | undefined {
  return NETNS_PATTERN.exec(name)?.[1];
}

/** The lab an interface name belongs to, or undefined when it is not a lab's. */
export function labOfIfname(name: string): string | undefined {
  const hex = IFNAME_PATTERN.exec(name)?.[1];
  return hex === undefined ? undefined : `sra-${hex}`;
}
