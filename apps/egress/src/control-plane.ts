/**
 * The egress's side of the NATS control plane: its signed directory entry and heartbeats
 * out, the ingress operator's trunk-certificate announcements in. Nothing about a target or
 * a flow is ever published: every message passes its schema before it is sent.
 */
import {
  Announcer,
  Heartbeat,
  IngressCertStore,
  connectControlPlane,
  directoryMessageSchema,
  type IngressCert,
} from '@splitrelay/control-plane';
import {
  claimedEntryId,
  readSignedEntries,
  readTrustedKeys,
  type SignedEnvelope,
} from '@splitrelay/directory';
import type { DeepReadonly } from '@splitrelay/config';
import type { RoleLogger } from '@splitrelay/log';
import type { EgressConfig } from './config.ts';

export interface EgressControlPlane {
  state(): 'ok' | 'stale';
  close(): Promise<void>;
}

/** This egress's own entry from a directory file written by sign-entry. */
function ownEntry(file: string, egressId: string): unknown {
  const mine = readSignedEntries(file).filter((e) => claimedEntryId(e) === egressId);
  if (mine.length === 0) throw new Error(`no entry for ${egressId} in ${file}`);
  // Only picked by its claimed id here: the schema check before publishing and every
  // receiver's signature check do the trusting.
  return mine[mine.length - 1];
}

export async function joinControlPlane(
  config: NonNullable<DeepReadonly<EgressConfig>['controlPlane']>,
  egressId: string,
  log: RoleLogger<'egress'>,
  manifest: () => SignedEnvelope | undefined,
  sample: () => { sessions: number; capacity: number },
  onIngressCerts: (certs: ReadonlyMap<string, IngressCert>) => void,
): Promise<EgressControlPlane> {
  const client = await connectControlPlane({
    servers: config.servers,
    user: config.user,
    pass: config.password,
    name: egressId,
  });
  let state: 'ok' | 'stale' = client.status === 'connected' ? 'ok' : 'stale';
  client.onStatusChange((s) => {
    state = s === 'connected' ? 'ok' : 'stale';
    if (state === 'ok') log.info('control plane: ok');
    else log.warn('control plane: stale', { reason: 'serving on the last verified state' });
  });

  const announcer = new Announcer(client, {
    family: 'directory',
    id: egressId,
    intervalMs: config.announceMs,
    message: () => directoryMessageSchema.parse(ownEntry(config.entryFile, egressId)),
    onError: (err) => log.warn('entry announcement failed', { reason: (err as Error).message }),
  });
  announcer.start();

  // The signed manifest, for the auditor (and the ingress operator) to read: the same bytes
  // the health listener serves.
  const manifestAnnouncer =
    manifest() === undefined
      ? undefined
      : new Announcer(client, {
          family: 'egress-manifest',
          id: egressId,
          intervalMs: config.announceMs,
          message: () => manifest() as SignedEnvelope,
          onError: (err) =>
            log.warn('manifest announcement failed', { reason: (err as Error).message }),
        });
  manifestAnnouncer?.start();

  const heartbeat = new Heartbeat(client, {
    family: 'egress-health',
    id: egressId,
    intervalMs: config.heartbeatMs,
    sample: () => {
      const { sessions, capacity } = sample();
      return { status: 'up', load: Math.min(1, sessions / capacity), sessions, capacity };
    },
    onError: (err) => log.warn('heartbeat failed', { reason: (err as Error).message }),
  });
  heartbeat.start();

  if (config.ingressOperatorKeys.length > 0) {
    const keys = readTrustedKeys(config.ingressOperatorKeys);
    const store = new IngressCertStore();
    const nowSeconds = (): number => Math.floor(Date.now() / 1000);
    client.subscribe(
      'ingress-cert',
      ({ id, message }) => {
        const result = store.apply(message, keys, nowSeconds(), id);
        if (result.accepted && result.changed) onIngressCerts(store.certs(nowSeconds()));
        else if (!result.accepted && result.reason !== 'stale-version') {
          log.warn('ingress certificate rejected', { reason: result.reason });
        }
      },
      { onDrop: (reason) => log.warn('control message dropped', { reason }) },
    );
  }

  return {
    state: () => state,
    async close() {
      announcer.stop();
      manifestAnnouncer?.stop();
      heartbeat.stop();
      await client.close();
    },
  };
}
