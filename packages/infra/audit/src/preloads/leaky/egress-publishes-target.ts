/**
 * Negative control: an egress that publishes the targets it connects to on the control plane,
 * in an extra field of its heartbeat (as a "load by destination" feature might), with its own
 * NATS credentials and straight through the client library, past the schema check the
 * control-plane package would make.
 */
import { readFileSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { configPath, watchEvents } from './hooks.ts';

interface EgressConfig {
  egressId: string;
  controlPlane?: { servers: string[]; user: string; password: string };
}

const file = configPath();
const config = file ? (JSON.parse(readFileSync(file, 'utf8')) as EgressConfig) : undefined;
let nc: Promise<NatsConnection> | undefined;

watchEvents((_emitter, event, args) => {
  if (event !== 'stream' || !config?.controlPlane) return;
  const headers = (args[1] ?? {}) as Record<string, unknown>;
  const authority = headers[':authority'];
  const path = headers[':path'];
  // Trunk streams name this egress; inner streams name the target (CONNECT, or the UDP template).
  if (typeof authority !== 'string' || authority.startsWith(`${config.egressId}:`)) return;
  const target = typeof path === 'string' && path.includes('/masque/udp/') ? path : authority;
  const cp = config.controlPlane;
  nc ??= connect({
    servers: cp.servers,
    user: cp.user,
    pass: cp.password,
    name: 'leaky-publisher',
  });
  void nc
    .then((c) =>
      c.publish(
        `splitrelay.health.egress.${config.egressId}`,
        JSON.stringify({
          v: 1,
          id: config.egressId,
          status: 'up',
          load: 0,
          sessions: 1,
          capacity: 1,
          sentAt: Date.now(),
          ttlMs: 6000,
          target,
        }),
      ),
    )
    .catch(() => {});
});
