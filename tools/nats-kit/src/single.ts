/**
 * One nats-server running deploy/nats/single.conf as it is, its variables set by the kit:
 * the accounts, exports and permissions under test are the deployment's own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsServerBinary, SINGLE_CONF } from './config-files.ts';
import { passwordEnv } from './credentials.ts';
import { NatsNode, type NatsServer } from './nats-server.ts';
import { freePort, hostPort, NATS_HOSTS } from './ports.ts';

export interface StartNatsOptions {
  /** Loopback address to listen on; 127.0.7.1 by default. */
  readonly host?: string;
  /** A free port on `host` by default. */
  readonly port?: number;
  /** JetStream's directory; a temporary one (removed by `stop`) by default. */
  readonly storeDir?: string;
  readonly serverName?: string;
  /** Another config with the same variables (e.g. a deliberately broken one); single.conf by default. */
  readonly configFile?: string;
  readonly readyTimeoutMs?: number;
}

// A probed port can be taken before the server binds it; only then is another one tried.
const PORT_ATTEMPTS = 3;

export async function startNats(options: StartNatsOptions = {}): Promise<NatsServer> {
  const host = options.host ?? NATS_HOSTS[0];
  const ownedDir = options.storeDir ? undefined : await mkdtemp(join(tmpdir(), 'splitrelay-nats-'));
  const storeDir = options.storeDir ?? join(ownedDir!, 'store');
  const serverName = options.serverName ?? 'nats-test';
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort(host));
    const node = new NatsNode({
      binary: natsServerBinary(),
      configFile: options.configFile ?? SINGLE_CONF,
      env: {
        ...passwordEnv(),
        SPLITRELAY_NATS_SERVER_NAME: serverName,
        SPLITRELAY_NATS_LISTEN: hostPort(host, port),
        SPLITRELAY_NATS_STORE_DIR: storeDir,
      },
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
      host,
      port,
      serverName,
      storeDir,
      ownedDir,
    });
    try {
      await node.start();
      return node;
    } catch (err) {
      const portTaken = node.logs().some((l) => l.includes('address already in use'));
      if (options.port === undefined && portTaken && attempt < PORT_ATTEMPTS) continue;
      if (ownedDir) await rm(ownedDir, { recursive: true, force: true });
      throw err;
    }
  }
}
