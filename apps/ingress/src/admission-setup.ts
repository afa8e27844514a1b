/**
 * Builds the ingress's admission from its config: the per-address rate limiter, and for
 * Privacy Pass the issuer key ring and the spent-token store (NATS KV shared by the fleet when
 * there is a control plane, this process's memory when there is not).
 */
import { RateLimiter, SessionRateLimit } from '@splitrelay/abuse-limits';
import type { DeepReadonly } from '@splitrelay/config';
import type { ControlPlaneClient } from '@splitrelay/control-plane';
import type { RoleLogger } from '@splitrelay/log';
import { TokenKeyRing, TokenRedeemer } from '@splitrelay/privacy-pass';
import {
  createMemorySpentTokenStore,
  openNatsSpentTokenStore,
  SpentStoreUnavailableError,
  spentTokenKey,
  type NatsSpentTokenStoreOptions,
  type SpentTokenStore,
} from '@splitrelay/spent-tokens';
import type { IngressConfig } from './config.ts';

export interface IngressAdmission {
  /** New sessions per client address. */
  readonly rate: SessionRateLimit;
  /** One Privacy Pass token per session; absent when the ingress asks for none. */
  readonly redeemer: TokenRedeemer | undefined;
  readonly tokenKeys: TokenKeyRing | undefined;
  readonly spentTokens: SpentTokenStore | undefined;
}

/**
 * An ingress without a control plane is one instance: its memory is the whole fleet's. About
 * 140 bytes an entry, so at most about 140 MB; when full, redemption fails closed.
 */
const MEMORY_STORE_MAX_ENTRIES = 1_000_000;

export async function setUpAdmission(
  config: DeepReadonly<IngressConfig['admission']>,
  controlPlane: ControlPlaneClient | undefined,
  log: RoleLogger<'ingress'>,
): Promise<IngressAdmission> {
  const rate = new SessionRateLimit(
    new RateLimiter({
      ratePerSecond: config.rateLimit.sessionsPerSecond,
      burst: config.rateLimit.burst,
      maxKeys: config.rateLimit.maxAddresses,
    }),
  );
  const pp = config.privacyPass;
  if (pp === undefined) {
    log.warn('privacy pass is off: any client that reaches this ingress may open sessions');
    return { rate, redeemer: undefined, tokenKeys: undefined, spentTokens: undefined };
  }
  const tokenKeys = new TokenKeyRing(pp.spentTokens.ttlSeconds);
  for (const reason of tokenKeys.add(pp.keys)) log.error('issuer key refused', { reason });

  if (controlPlane) {
    controlPlane.subscribe(
      'issuer-keys',
      ({ message }) => {
        if (message.issuerName !== pp.issuerName) return;
        const problems = tokenKeys.announce(message.issuerId, message.sentAt, message.keys);
        for (const reason of problems) log.error('issuer key refused', { reason });
      },
      { onDrop: (reason) => log.warn('control message dropped', { reason }) },
    );
  }

  const spentTokens = controlPlane
    ? await openSharedStore(
        controlPlane,
        {
          bucket: pp.spentTokens.bucket,
          ttlMs: pp.spentTokens.ttlSeconds * 1000,
          timeoutMs: pp.spentTokens.timeoutMs,
          replicas: pp.spentTokens.replicas,
        },
        log,
      )
    : createMemorySpentTokenStore({
        ttlMs: pp.spentTokens.ttlSeconds * 1000,
        maxEntries: MEMORY_STORE_MAX_ENTRIES,
      });

  const redeemer = new TokenRedeemer({
    issuerName: pp.issuerName,
    origin: pp.origin,
    keys: tokenKeys,
    spent: { claim: (keyId, nonce) => spentTokens.claim(spentTokenKey(keyId, nonce)) },
    maxHeaderChars: pp.maxHeaderChars,
  });
  return { rate, redeemer, tokenKeys, spentTokens };
}

/**
 * The fleet's KV store. If NATS cannot open it now (down at start), the ingress still starts
 * and redemption fails closed until a later claim manages to open it.
 */
async function openSharedStore(
  controlPlane: ControlPlaneClient,
  options: NatsSpentTokenStoreOptions,
  log: RoleLogger<'ingress'>,
): Promise<SpentTokenStore> {
  const open = (): Promise<SpentTokenStore> =>
    openNatsSpentTokenStore(controlPlane.connection, options);
  try {
    return await open();
  } catch (err) {
    if (!(err instanceof SpentStoreUnavailableError)) throw err;
    log.error('spent-token store unavailable; redemption fails closed until it opens');
  }
  let store: SpentTokenStore | undefined;
  let opening: Promise<SpentTokenStore> | undefined;
  return {
    get healthy() {
      return store?.healthy ?? false;
    },
    async claim(key) {
      if (store === undefined) {
        opening ??= open().finally(() => (opening = undefined));
        store = await opening;
        log.info('spent-token store opened');
      }
      return store.claim(key);
    },
    async close() {
      await store?.close();
    },
  };
}
