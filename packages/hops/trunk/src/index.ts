export { OHTTP_GATEWAY_PATH } from './paths.ts';
export { TrunkPool, type TrunkPoolOptions, type TrunkTarget } from './pool.ts';
export {
  createTrunkServer,
  type TrunkServer,
  type TrunkServerOptions,
  type KnownIngress,
  type SessionGate,
} from './server.ts';
