/**
 * Wires the client: verified directory → SplitRelay client library → local SOCKS5 and HTTP
 * proxies on loopback. Target names go to the egress as names: nothing here resolves them.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { splitHostPort, readPem, type DeepReadonly } from '@splitrelay/config';
import { readTrustedKeys } from '@splitrelay/directory-source';
import { ClientDirectory } from './directory.ts';
import type { RoleLogger } from '@splitrelay/log';
import { createHttpProxyServer, createSocksServer } from '@splitrelay/local-proxy';
import { createSplitRelayClient, TokenWallet } from '@splitrelay/sdk';
import type { ClientConfig } from './config.ts';

export interface RunningClient {
  readonly socks?: AddressInfo;
  readonly http?: AddressInfo;
  close(): Promise<void>;
}

async function listen(server: Server, address: string): Promise<AddressInfo> {
  const { host, port } = splitHostPort(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server.address() as AddressInfo;
}

export async function startClient(
  config: DeepReadonly<ClientConfig>,
  log: RoleLogger<'client'>,
): Promise<RunningClient> {
  const ingress = splitHostPort(config.ingress.address);
  const ingressAddress = {
    host: ingress.host,
    port: ingress.port,
    servername: config.ingress.servername,
    ...(config.ingress.ca ? { ca: readPem(config.ingress.ca) } : {}),
  };
  const directory = new ClientDirectory(readTrustedKeys(config.directory.operatorKeys));
  const directoryFile = config.directory.file;
  const refresh = async (): Promise<void> => {
    try {
      const refused =
        directoryFile !== undefined
          ? directory.loadFile(directoryFile)
          : await directory.fetchFrom(ingressAddress, config.localAddress);
      if (refused > 0) log.warn('directory entries rejected', { count: refused });
    } catch (err) {
      // Fail static: the last verified entries stay until they expire.
      log.warn('directory refresh failed', { reason: (err as Error).message });
    }
  };
  await refresh();
  if (directory.entries().size === 0) {
    // A file without a valid egress is a configuration error; an ingress that has not yet
    // heard from any egress (over its control plane) is a moment to wait through.
    if (directoryFile !== undefined) throw new Error('the directory has no valid egress');
    log.warn('no valid egress yet; retrying', { reason: 'the ingress serves an empty directory' });
  }
  const refreshTimer = setInterval(() => void refresh(), config.directory.refreshMs);
  refreshTimer.unref();
  // Until the first egress arrives, look again every second rather than every refreshMs.
  const eager = setInterval(() => {
    if (directory.entries().size > 0) clearInterval(eager);
    else void refresh();
  }, 1000);
  eager.unref();

  const wallet = config.tokens
    ? new TokenWallet({
        issuer: config.tokens.issuer,
        ...(config.tokens.ca ? { issuerCa: readPem(config.tokens.ca) } : {}),
        ...(config.tokens.servername ? { issuerServername: config.tokens.servername } : {}),
        credential: readFileSync(config.tokens.credentialFile, 'utf8').trim(),
        batchSize: config.tokens.batchSize,
        refillBelow: config.tokens.refillBelow,
        timeoutMs: config.timeouts.handshakeMs,
        ...(config.tokens.predictChallenge
          ? {
              expectedChallenge: {
                issuerName: config.tokens.servername ?? new URL(config.tokens.issuer).hostname,
                originInfo: config.ingress.servername,
              },
            }
          : {}),
      })
    : undefined;
  // The issuer's directory comes while the first session meets its 407, not after it.
  wallet?.prefetch();
  const client = createSplitRelayClient({
    ...(wallet ? { authenticator: wallet } : {}),
    ingress: ingressAddress,
    directory: () => directory.entries(),
    health: () => directory.health(),
    preference: {
      ...(config.egress.id ? { egressId: config.egress.id } : {}),
      ...(config.egress.region ? { region: config.egress.region } : {}),
    },
    carrier: config.ingress.carrier,
    handshakeTimeoutMs: config.timeouts.handshakeMs,
    flowTimeoutMs: config.timeouts.flowMs,
    ...(config.localAddress ? { localAddress: config.localAddress } : {}),
  });
  const connect = (target: { host: string; port: number }, signal?: AbortSignal) =>
    client.connect(target, signal);
  const servers: Server[] = [];
  const result: { socks?: AddressInfo; http?: AddressInfo } = {};
  if (config.socks) {
    const server = createSocksServer({
      openUdp: (target, signal) => client.openUdp(target, signal),
      connect,
      handshakeTimeoutMs: config.timeouts.handshakeMs,
      logger: log,
    });
    servers.push(server);
    result.socks = await listen(server, config.socks.listen);
  }
  if (config.http) {
    const server = createHttpProxyServer({
      connect,
      headersTimeoutMs: config.timeouts.handshakeMs,
      logger: log,
    });
    servers.push(server);
    result.http = await listen(server, config.http.listen);
  }
  return {
    ...result,
    async close() {
      clearInterval(refreshTimer);
      clearInterval(eager);
      client.close();
      wallet?.close();
      await Promise.all(
        servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
    },
  };
}
