/**
 * Fleet-wide double-spend prevention for Privacy Pass tokens redeemed at SplitRelay ingresses:
 * a JetStream KV bucket in the ingress operator's NATS account, or this process's memory for
 * a lone ingress.
 */
export {
  SpentStoreUnavailableError,
  SpentStoreConfigError,
  type ClaimResult,
  type SpentTokenStore,
} from './store.ts';
export { spentTokenKey, isKvSafeKey, KEY_ID_PREFIX_BYTES } from './token-key.ts';
export { openNatsSpentTokenStore, type NatsSpentTokenStoreOptions } from './nats-store.ts';
export { createMemorySpentTokenStore, type MemorySpentTokenStoreOptions } from './memory-store.ts';
