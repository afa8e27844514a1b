/**
 * The issuer's side of the NATS control plane: its public token keys out, on
 * `splitrelay.private.ingress.issuer-keys.<issuerId>`, inside the ingress operator's account,
 * so its ingresses know which tokens to accept. Nothing else is published, and never anything
 * about a subscriber or a token: the message passes its strict schema before it is sent.
 */
import { Announcer, connectControlPlane, type IssuerKeysMessage } from '@splitrelay/control-plane';
import type { DeepReadonly } from '@splitrelay/config';
import type { RoleLogger } from '@splitrelay/log';
import type { IssuerConfig } from './config.ts';

export interface IssuerControlPlane {
  state(): 'ok' | 'stale';
  /** Announces now (after a reload changed the keys). */
  announce(): void;
  close(): Promise<void>;
}

export async function joinControlPlane(
  config: NonNullable<DeepReadonly<IssuerConfig>['controlPlane']>,
  log: RoleLogger<'issuer'>,
  message: () => IssuerKeysMessage | undefined,
): Promise<IssuerControlPlane> {
  const client = await connectControlPlane({
    servers: config.servers,
    user: config.user,
    pass: config.password,
    name: config.issuerId,
  });
  let state: 'ok' | 'stale' = client.status === 'connected' ? 'ok' : 'stale';
  client.onStatusChange((s) => {
    state = s === 'connected' ? 'ok' : 'stale';
    if (state === 'ok') log.info('control plane: ok');
    else log.warn('control plane: stale', { reason: 'key announcements paused' });
  });

  const NoKeys = class extends Error {};
  const announcer = new Announcer(client, {
    family: 'issuer-keys',
    id: config.issuerId,
    intervalMs: config.announceMs,
    message: () => {
      const m = message();
      if (m === undefined) throw new NoKeys();
      return m;
    },
    onError: (err) =>
      log.warn('key announcement skipped', {
        reason: err instanceof NoKeys ? 'no unexpired token key' : (err as Error).message,
      }),
  });
  announcer.start();

  return {
    state: () => state,
    announce: () => announcer.announce(),
    async close() {
      announcer.stop();
      await client.close();
    },
  };
}
