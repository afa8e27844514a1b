export {
  createOhttpGateway,
  type OhttpGateway,
  type OhttpGatewayCounters,
  type OhttpGatewayLimits,
  type OhttpGatewayOptions,
  type OhttpGatewayTimeouts,
} from './gateway.ts';
export {
  addKey,
  liveKeys,
  parseKeyRing,
  promoteKey,
  pruneKeys,
  publishedKeyIds,
  publishedKeys,
  retireKey,
  retirements,
  keyRingSchema,
  AEADS,
  KEMS,
  MAX_RING_KEYS,
  type AeadName,
  type KemName,
  type KeyRing,
  type RingKey,
} from './key-ring.ts';
export { readKeyRing, writeKeyRing, EMPTY_RING } from './key-ring-file.ts';
export { createOriginAgent, originConnector, type OriginAgentOptions } from './origin-agent.ts';
export { dohQuery, forwardDns, DNS_MESSAGE_TYPE, type DohOptions } from './doh.ts';
export { decideTarget, type DecidedTarget } from './target-request.ts';
