/**
 * Wires the client: verified directory → SplitRelay client library → local SOCKS5 and HTTP
 * proxies on loopback. Target names go to the egress as names: nothing here resolves them.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { splitHostPort, readPem, type DeepReadonly } from '@splitrelay/config';
import { readTrustedKeys } from '@splitrelay/directory';
import type { RoleLogger } from '@splitrelay/log';
import {
  UdpKernelDrops,
  createDnsForwarder,
  createHttpProxyServer,
  createOhttpEndpoint,
  createSocksServer,
  createUdpCounters,
  type DnsForwarder,
} from '@splitrelay/local-proxy';
import { createSplitRelayClient } from '@splitrelay/sdk';
import type { ClientConfig } from './config.ts';

/** KEM ids of RFC 9180 §7.1 and draft-ietf-hpke-pq (X-Wing). */
const KEM_IDS = { x25519: 0x0020, 'x-wing': 0x647a } as const;

export interface RunningClient {
  readonly socks?: AddressInfo;
  readonly http?: AddressInfo;
  readonly ohttp?: AddressInfo;
  readonly dns?: { address: string; port: number };
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
  const client = createSplitRelayClient({
    ingress: ingressAddress,
    directory: {
      operatorKeys: readTrustedKeys(config.directory.operatorKeys),
      ...(config.directory.file !== undefined ? { file: config.directory.file } : {}),
      refreshMs: config.directory.refreshMs,
      onProblem: ({ refused, reason }) => {
        // Fail static: the last verified entries stay until they expire.
        if (refused !== undefined) log.warn('directory entries rejected', { count: refused });
        else log.warn('directory refresh failed', { reason: reason ?? 'unknown' });
      },
    },
    ...(config.tokens
      ? {
          tokens: {
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
          },
        }
      : {}),
    preference: {
      ...(config.egress.id ? { egressId: config.egress.id } : {}),
      ...(config.egress.region ? { region: config.egress.region } : {}),
    },
    location: {
      choice:
        config.location.share === 'general-location'
          ? { mode: 'general-location', precision: config.location.precision }
          : { mode: config.location.share },
      where: {
        ...(config.location.country !== undefined ? { country: config.location.country } : {}),
        ...(config.location.latitude !== undefined && config.location.longitude !== undefined
          ? { latitude: config.location.latitude, longitude: config.location.longitude }
          : {}),
      },
    },
    carrier: config.ingress.carrier,
    ...(config.ohttp
      ? {
          ohttp: {
            preferKemId: KEM_IDS[config.ohttp.kem],
            timeoutMs: config.ohttp.timeoutMs,
            ...(config.ohttp.relayPrefix ? { relayPrefix: config.ohttp.relayPrefix } : {}),
          },
        }
      : {}),
    handshakeTimeoutMs: config.timeouts.handshakeMs,
    flowTimeoutMs: config.timeouts.flowMs,
    ...(config.localAddress ? { localAddress: config.localAddress } : {}),
  });
  await client.ready;
  if (client.egresses().size === 0) {
    // A file without a valid egress is a configuration error; an ingress that has not yet
    // heard from any egress (over its control plane) is a moment to wait through.
    if (config.directory.file !== undefined) {
      client.close();
      throw new Error('the directory has no valid egress');
    }
    log.warn('no valid egress yet; retrying', { reason: 'the ingress serves an empty directory' });
  }
  const connect = (target: { host: string; port: number }, signal?: AbortSignal) =>
    client.connect(target, signal);
  const servers: Server[] = [];
  const result: {
    socks?: AddressInfo;
    http?: AddressInfo;
    ohttp?: AddressInfo;
    dns?: { address: string; port: number };
  } = {};
  let dns: DnsForwarder | undefined;
  const udp = createUdpCounters();
  const kernelDrops = new UdpKernelDrops();
  if (config.socks) {
    const server = createSocksServer({
      openUdp: (target, signal) => client.openUdp(target, signal),
      connect,
      handshakeTimeoutMs: config.timeouts.handshakeMs,
      logger: log,
      udp: { counters: udp, kernelDrops, socketBufferBytes: config.socks.udpBufferBytes },
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
  if (config.ohttp?.listen) {
    const server = createOhttpEndpoint({
      fetch: (input, init) => client.ohttpFetch(input, init),
      logger: log,
    });
    servers.push(server);
    result.ohttp = await listen(server, config.ohttp.listen);
  }
  if (config.dns) {
    const authority = config.dns.authority;
    dns = createDnsForwarder({
      // Each query on its own: ID 0, a fresh encapsulation, the same fields every time.
      resolve: (query, signal) =>
        client.ohttpDns(query, { signal, ...(authority ? { authority } : {}) }),
      timeoutMs: config.dns.timeoutMs,
      logger: log,
    });
    const { host, port } = splitHostPort(config.dns.listen);
    result.dns = await dns.listen(host, port, config.dns.tcp);
  }
  // Counts only, never a target: where datagrams went, and where they were lost.
  const stats = setInterval(() => {
    void kernelDrops.total().then((droppedByKernel) =>
      log.info('stats', {
        udpAssociations: udp.associations,
        udpFlows: udp.flowsOpened,
        datagramsUp: udp.datagramsUp,
        datagramsDown: udp.datagramsDown,
        datagramsDropped:
          droppedByKernel +
          udp.droppedForeignSource +
          udp.droppedMalformed +
          udp.droppedFragment +
          udp.droppedQueueFull +
          udp.droppedFlowLimit +
          udp.droppedRefused +
          udp.droppedInFlow,
        udpDroppedByKernel: droppedByKernel,
        udpDroppedForeignSource: udp.droppedForeignSource,
        udpDroppedMalformed: udp.droppedMalformed,
        udpDroppedFragment: udp.droppedFragment,
        udpDroppedQueueFull: udp.droppedQueueFull,
        udpDroppedFlowLimit: udp.droppedFlowLimit,
        udpDroppedRefused: udp.droppedRefused,
        udpDroppedInFlow: udp.droppedInFlow,
        udpSendErrors: udp.sendErrors,
        udpRecvBufferBytes: udp.recvBufferBytes,
      }),
    );
  }, config.log.statsIntervalMs);
  stats.unref();
  return {
    ...result,
    async close() {
      clearInterval(stats);
      await dns?.close();
      client.close();
      await Promise.all(
        servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
    },
  };
}
