/**
 * The trust model as data: who may open connections to whom. Everything else follows from
 * this matrix: which routes each namespace gets, which flows the router forwards, and which
 * connections `verifyReachability()` expects to succeed or to fail.
 *
 *   client  ──▶ ingress, issuer, dns      (never the egress, the target or the control plane)
 *   ingress ──▶ egress, nats              (never the target or the resolver: it must not learn
 *                                          where a client goes)
 *   egress  ──▶ target, dns, nats         (never the client: it must not learn who asks)
 *   issuer  ──▶ nats
 *   nats, target, dns                     (answer only)
 *
 * "May open" is directional; replies travel on the connection that was opened. A namespace
 * therefore has a route to a peer when either may open to the other (the egress routes back to
 * the ingress for its replies), while the router forwards new connections only in the allowed
 * direction and anything else only as part of an established flow.
 */
import { ROLES, isRole, type Role } from './roles.ts';

/** For each role, the roles it may open connections to. */
export type ReachabilityMatrix = Readonly<Record<Role, readonly Role[]>>;

export const TRUST_MODEL: ReachabilityMatrix = Object.freeze({
  client: Object.freeze(['ingress', 'issuer', 'dns'] as const),
  ingress: Object.freeze(['egress', 'nats'] as const),
  egress: Object.freeze(['target', 'dns', 'nats'] as const),
  issuer: Object.freeze(['nats'] as const),
  nats: Object.freeze([] as const),
  target: Object.freeze([] as const),
  dns: Object.freeze([] as const),
});

export function mayOpen(matrix: ReachabilityMatrix, from: Role, to: Role): boolean {
  return matrix[from].includes(to);
}

/** The roles whose subnets `role` gets routes to: peers it opens to or that open to it. */
export function routedPeers(matrix: ReachabilityMatrix, role: Role): Role[] {
  return ROLES.filter(
    (peer) => peer !== role && (mayOpen(matrix, role, peer) || mayOpen(matrix, peer, role)),
  );
}

/** Every ordered pair of distinct roles with what the matrix expects of it. */
export function expectedPairs(
  matrix: ReachabilityMatrix,
): { from: Role; to: Role; allowed: boolean }[] {
  const pairs: { from: Role; to: Role; allowed: boolean }[] = [];
  for (const from of ROLES) {
    for (const to of ROLES) {
      if (from !== to) pairs.push({ from, to, allowed: mayOpen(matrix, from, to) });
    }
  }
  return pairs;
}

/** Problems that make a matrix unusable: unknown roles, self-loops, missing rows. */
export function matrixProblems(matrix: unknown): string[] {
  const problems: string[] = [];
  if (matrix === null || typeof matrix !== 'object') return ['the matrix must be an object'];
  const rows = matrix as Record<string, unknown>;
  for (const key of Object.keys(rows)) {
    if (!isRole(key)) problems.push(`unknown role "${key}"`);
  }
  for (const role of ROLES) {
    const row = rows[role];
    if (!Array.isArray(row)) {
      problems.push(`${role}: a list of roles is required`);
      continue;
    }
    for (const peer of row as unknown[]) {
      if (!isRole(peer)) problems.push(`${role}: unknown peer "${String(peer)}"`);
      else if (peer === role) problems.push(`${role}: a role does not open connections to itself`);
    }
  }
  return problems;
}

/**
 * Where a matrix is weaker than the trust model, in words, so a lab run with a custom matrix
 * says so in its limitations instead of passing silently.
 */
export function trustModelDepartures(matrix: ReachabilityMatrix): string[] {
  const departures: string[] = [];
  const forbid = (a: Role, b: Role, why: string): void => {
    if (routedPeers(matrix, a).includes(b)) departures.push(`${a} has a route to ${b}: ${why}`);
  };
  forbid('ingress', 'target', 'the ingress could learn where clients go');
  forbid('ingress', 'dns', "the ingress could see the clients' name lookups");
  forbid('egress', 'client', 'the egress could learn who the clients are');
  for (const peer of matrix.client) {
    if (!TRUST_MODEL.client.includes(peer)) {
      departures.push(`the client may open connections to ${peer}`);
    }
  }
  return departures;
}
