/**
 * The parties of a SplitRelay deployment, each of which the lab gives its own network
 * namespace, plus the router that joins them. The two-letter codes keep interface names under
 * the kernel's 15-character limit (IFNAMSIZ) after the run prefix.
 */

export const ROLES = ['client', 'ingress', 'egress', 'issuer', 'nats', 'target', 'dns'] as const;

export type Role = (typeof ROLES)[number];

export const ROLE_CODES: Readonly<Record<Role, string>> = Object.freeze({
  client: 'cl',
  ingress: 'in',
  egress: 'eg',
  issuer: 'is',
  nats: 'na',
  target: 'ta',
  dns: 'dn',
});

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
