/**
 * The ingress's side of the NATS control plane: signed directory entries and egress health
 * in, this ingress's heartbeat (and its trunk-certificate announcement) out. Nothing about a
 * client or a flow is ever published: every message passes its schema before it is sent.
 */
import { readFileSync } from 'node:fs';
import {
  Announcer,
  Heartbeat,
  connectControlPlane,
  signedIngressCertSchema,
  type ControlPlaneClient,
} from '@splitrelay/control-plane';
import type { DeepReadonly } from '@splitrelay/config';
import type { SignedEnvelope } from '@splitrelay/directory';
import type { RoleLogger } from '@splitrelay/log';
import type { IngressConfig } from './config.ts';
import type { EgressView } from '@splitrelay/control-plane';

export interface IngressControlPlane {
  /** The connection, for the spent-token store and the issuer's key announcements. */
  readonly client: ControlPlaneClient;
  close(): Promise<void>;
}

export async function joinControlPlane(
  config: NonNullable<DeepReadonly<IngressConfig>['controlPlane']>,
  view: EgressView,
  log: RoleLogger<'ingress'>,
  manifest: () => SignedEnvelope | undefined,
  sample: () => { sessions: number; capacity: number },
): Promise<IngressControlPlane> {
  const client: ControlPlaneClient = await connectControlPlane({
    servers: config.servers,
    user: config.user,
    pass: config.password,
    name: config.ingressId,
  });
  const onState = (state: 'connected' | 'disconnected'): void => {
    if (state === 'connected') {
      view.connected();
      log.info('control plane: ok');
    } else {
      view.disconnected();
      log.warn('control plane: stale', { reason: 'serving on the last verified state' });
    }
  };
  onState(client.status);
  client.onStatusChange(onState);

  const dropped = (reason: string): void => log.warn('control message dropped', { reason });
  client.subscribe(
    'directory',
    ({ id, message }) => {
      const result = view.applyEntry(message, id);
      if (!result.accepted && result.reason !== 'stale-version')
        log.warn('directory entry rejected', { egressId: id, reason: result.reason ?? 'invalid' });
    },
    { onDrop: dropped },
  );
  client.subscribe('egress-health', ({ message }) => view.applyHealth(message), {
    onDrop: dropped,
  });

  const heartbeat = new Heartbeat(client, {
    family: 'ingress-health',
    id: config.ingressId,
    intervalMs: config.heartbeatMs,
    sample: () => {
      const { sessions, capacity } = sample();
      return {
        status: 'up',
        load: capacity > 0 ? Math.min(1, sessions / capacity) : 0,
        sessions,
        capacity,
      };
    },
    onError: (err) => log.warn('heartbeat failed', { reason: (err as Error).message }),
  });
  heartbeat.start();

  let announcer: Announcer<'ingress-cert'> | undefined;
  if (config.trunkCertAnnouncement) {
    const file = config.trunkCertAnnouncement;
    announcer = new Announcer(client, {
      family: 'ingress-cert',
      id: config.ingressId,
      intervalMs: config.heartbeatMs * 5,
      // Read at every tick, so a renewed certificate is announced without a restart.
      message: () => signedIngressCertSchema.parse(JSON.parse(readFileSync(file, 'utf8'))),
      onError: (err) =>
        log.warn('trunk certificate announcement failed', { reason: (err as Error).message }),
    });
    announcer.start();
  }

  // The signed manifest, for the auditor (and the egress operator) to read: the same bytes
  // the client listener serves.
  const manifestAnnouncer =
    manifest() === undefined
      ? undefined
      : new Announcer(client, {
          family: 'ingress-manifest',
          id: config.ingressId,
          intervalMs: config.heartbeatMs * 5,
          message: () => manifest() as SignedEnvelope,
          onError: (err) =>
            log.warn('manifest announcement failed', { reason: (err as Error).message }),
        });
  manifestAnnouncer?.start();

  return {
    client,
    async close() {
      heartbeat.stop();
      announcer?.stop();
      manifestAnnouncer?.stop();
      await client.close();
    },
  };
}
