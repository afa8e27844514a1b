/**
 * The users of deploy/nats/accounts.conf and the passwords the kit hands the server through its
 * environment. Test values only: a deployment sets its own (deploy/nats/README.md).
 */
export type NatsRole = 'ingress' | 'egress' | 'auditor' | 'sys' | 'issuer';

export interface NatsCredentials {
  readonly user: string;
  readonly pass: string;
}

export const TEST_CREDENTIALS: Readonly<Record<NatsRole, NatsCredentials>> = Object.freeze({
  ingress: Object.freeze({ user: 'ingress', pass: 'test-ingress-password' }),
  egress: Object.freeze({ user: 'egress', pass: 'test-egress-password' }),
  auditor: Object.freeze({ user: 'auditor', pass: 'test-auditor-password' }),
  sys: Object.freeze({ user: 'sys', pass: 'test-sys-password' }),
  issuer: Object.freeze({ user: 'issuer', pass: 'test-issuer-password' }),
});

/** A relay's login in its config's `controlPlane` block (`servers`, `user`, `password`), as `role`. */
export function controlPlaneLogin(
  role: NatsRole,
  servers: readonly string[],
): { servers: string[]; user: string; password: string } {
  const { user, pass } = TEST_CREDENTIALS[role];
  return { servers: [...servers], user, password: pass };
}

/** What a node presents to join the cluster (cluster-node.conf). */
export const TEST_ROUTE_PASSWORD = 'test-route-password';

/** The `SPLITRELAY_NATS_*_PASSWORD` variables accounts.conf reads. */
export function passwordEnv(): Record<string, string> {
  return {
    SPLITRELAY_NATS_INGRESS_PASSWORD: TEST_CREDENTIALS.ingress.pass,
    SPLITRELAY_NATS_EGRESS_PASSWORD: TEST_CREDENTIALS.egress.pass,
    SPLITRELAY_NATS_AUDITOR_PASSWORD: TEST_CREDENTIALS.auditor.pass,
    SPLITRELAY_NATS_SYS_PASSWORD: TEST_CREDENTIALS.sys.pass,
    SPLITRELAY_NATS_ISSUER_PASSWORD: TEST_CREDENTIALS.issuer.pass,
  };
}
