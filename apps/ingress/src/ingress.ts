/**
 * Wires the ingress: client-facing listener → directory check → trunk to the egress. The
 * only thing this process learns about a tunnel is which egress it goes to.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:tls';
import { splitHostPort, readPem, type DeepReadonly } from '@splitrelay/config';
import { parseEndpoint, type Entry } from '@splitrelay/directory';
import { loadDirectoryFile, readTrustedKeys } from '@splitrelay/directory-source';
import { RelayError } from '@splitrelay/errors';
import type { RoleLogger } from '@splitrelay/log';
import { createOuterHopServer } from '@splitrelay/outer-hop';
import { TrunkPool } from '@splitrelay/trunk';
import type { IngressConfig } from './config.ts';

export interface RunningIngress {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export async function startIngress(
  config: DeepReadonly<IngressConfig>,
  log: RoleLogger<'ingress'>,
): Promise<RunningIngress> {
  const nowSeconds = (): number => Math.floor(Date.now() / 1000);
  const trusted = readTrustedKeys(config.directory.operatorKeys);
  let directory = new Map<string, Entry>();
  const reload = (): void => {
    try {
      const verified = loadDirectoryFile(config.directory.file, trusted, nowSeconds());
      directory = verified.entries;
      for (const r of verified.rejected)
        log.warn('directory entry rejected', { code: r.code, reason: r.reason });
      log.info('directory loaded', { count: directory.size });
    } catch (err) {
      // Fail static: keep serving on the last verified entries until they expire.
      log.error('directory reload failed', { reason: (err as Error).message });
    }
  };
  reload();
  const reloadTimer = setInterval(reload, config.directory.reloadMs);
  reloadTimer.unref();

  const pool = new TrunkPool({
    cert: readPem(config.trunk.cert),
    key: readPem(config.trunk.key),
    connectTimeoutMs: config.trunk.connectTimeoutMs,
    maxStreamsPerConnection: config.trunk.maxStreamsPerConnection,
    maxConnectionsPerEgress: config.trunk.maxConnectionsPerEgress,
    ...(config.trunk.localAddress ? { localAddress: config.trunk.localAddress } : {}),
  });

  const counters = { sessions: 0, refusals: 0, bytesUp: 0, bytesDown: 0 };
  const server: Server = createOuterHopServer({
    cert: readPem(config.tls.cert),
    key: readPem(config.tls.key),
    handshakeTimeoutMs: config.timeouts.handshakeMs,
    idleTimeoutMs: config.timeouts.idleMs,
    maxHeaderBytes: config.limits.maxHeaderBytes,
    proxyName: config.proxyName,
    async openTunnel({ egressId }, signal) {
      const entry = directory.get(egressId);
      if (!entry || entry.notAfter <= nowSeconds())
        throw new RelayError('unknown-egress', 'no such egress in the directory');
      const endpoint = parseEndpoint(entry.endpoint);
      if (!endpoint) throw new RelayError('unknown-egress', 'egress endpoint is invalid');
      const stream = await pool.open(
        { id: entry.id, host: endpoint.host, port: endpoint.port, pins: entry.tlsPins },
        signal,
      );
      counters.sessions++;
      return stream;
    },
    onRefusal(err, request) {
      counters.refusals++;
      log.debug('refused', {
        code: err.code,
        status: err.status,
        ...(request.egressId ? { egressId: request.egressId } : {}),
      });
    },
    onTunnelDone(stats) {
      counters.bytesUp += stats.aToB;
      counters.bytesDown += stats.bToA;
    },
  });

  const statsTimer = setInterval(
    () => log.info('stats', { ...counters }),
    config.log.statsIntervalMs,
  );
  statsTimer.unref();

  const { host, port } = splitHostPort(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;

  return {
    address,
    async close() {
      clearInterval(reloadTimer);
      clearInterval(statsTimer);
      pool.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
