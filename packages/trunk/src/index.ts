export { TrunkPool, type TrunkPoolOptions, type TrunkTarget } from './pool.ts';
export { createTrunkServer, type TrunkServerOptions, type KnownIngress } from './server.ts';
