/** Where the deployment's NATS configuration lives: the kit runs those very files. */
import { fileURLToPath } from 'node:url';

export const NATS_CONFIG_DIR = fileURLToPath(new URL('../../../deploy/nats/', import.meta.url));
export const SINGLE_CONF = fileURLToPath(
  new URL('../../../deploy/nats/single.conf', import.meta.url),
);
export const CLUSTER_NODE_CONF = fileURLToPath(
  new URL('../../../deploy/nats/cluster-node.conf', import.meta.url),
);

/** Debian's nats-server unless SPLITRELAY_NATS_SERVER names another binary. */
export function natsServerBinary(): string {
  return process.env.SPLITRELAY_NATS_SERVER ?? '/usr/sbin/nats-server';
}
