/**
 * A test kit for SplitRelay's control plane: real nats-server processes running the
 * deployment's own configuration (deploy/nats), in the manner of nats.js's `nst`.
 */
export { startNats, type StartNatsOptions } from './single.ts';
export { startNatsCluster, type NatsCluster, type StartNatsClusterOptions } from './cluster.ts';
export type { NatsServer } from './nats-server.ts';
export type { WaitForLogOptions } from './server-process.ts';
export {
  TEST_CREDENTIALS,
  TEST_ROUTE_PASSWORD,
  controlPlaneLogin,
  passwordEnv,
  type NatsCredentials,
  type NatsRole,
} from './credentials.ts';
export { connectAs } from './connect.ts';
export {
  watchPermissionErrors,
  type PermissionErrors,
  type ViolationMatch,
} from './permission-errors.ts';
export {
  NATS_CONFIG_DIR,
  SINGLE_CONF,
  CLUSTER_NODE_CONF,
  natsServerBinary,
} from './config-files.ts';
export { NATS_HOSTS, freePort } from './ports.ts';
