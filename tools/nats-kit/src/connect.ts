/** Connections as one of accounts.conf's users, with the kit's test passwords. */
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { TEST_CREDENTIALS, type NatsRole } from './credentials.ts';

export function connectAs(
  role: NatsRole,
  servers: string | readonly string[],
  options: NodeConnectionOptions = {},
): Promise<NatsConnection> {
  const { user, pass } = TEST_CREDENTIALS[role];
  return connect({
    servers: typeof servers === 'string' ? servers : [...servers],
    user,
    pass,
    name: `splitrelay-test-${role}`,
    ...options,
  });
}
