/**
 * The auditor's other source: the manifests relays publish on the control plane
 * (`splitrelay.manifest.<role>.<relayId>`, readable by the auditor account). Each message
 * passed its family's schema on the way in; here it must also verify against the operator
 * keys the auditor trusts.
 */
import type { ControlPlaneClient } from '@splitrelay/control-plane';
import type { TrustedKeys } from '@splitrelay/directory';
import { verifyManifest } from '@splitrelay/egress-addresses';
import type { FetchedManifest } from './fetch.ts';

export interface ReceiveManifestOptions {
  readonly timeoutMs?: number;
  /** Unix seconds; default now, read when each message arrives. */
  readonly now?: () => number;
  /** Told about messages that arrived but did not verify (the reason only). */
  readonly onRefused?: (reason: string) => void;
}

/** Resolves with the first manifest of `relayId` that verifies; rejects after `timeoutMs`. */
export function receiveManifest(
  client: ControlPlaneClient,
  role: 'egress' | 'ingress',
  relayId: string,
  trustedKeys: TrustedKeys,
  options: ReceiveManifestOptions = {},
): Promise<FetchedManifest> {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`no verified manifest of ${role} ${relayId} within ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = client.subscribe(
      role === 'egress' ? 'egress-manifest' : 'ingress-manifest',
      ({ message }) => {
        try {
          const manifest = verifyManifest(message, trustedKeys, now());
          clearTimeout(timer);
          sub.unsubscribe();
          resolve({ manifest, signed: message });
        } catch (err) {
          options.onRefused?.((err as Error).message);
        }
      },
      { id: relayId, onDrop: (reason) => options.onRefused?.(reason) },
    );
  });
}
