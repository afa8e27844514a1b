/**
 * Wires the egress: trunk listener (known ingresses only) → inner TLS with the egress key →
 * CONNECT flows → target policy and dialer. Nothing here can learn a client address: the
 * only peer this process talks to on the client's side is an ingress relay.
 */
import type { AddressInfo } from 'node:net';
import { splitHostPort, readPem, type DeepReadonly } from '@splitrelay/config';
import type { RoleLogger } from '@splitrelay/log';
import { createInnerSessionServer } from '@splitrelay/inner-session';
import { createTargetDialer, serversResolve, withStaticHosts } from '@splitrelay/target-dialer';
import { compilePolicy } from '@splitrelay/target-policy';
import { createTrunkServer } from '@splitrelay/trunk';
import type { EgressConfig } from './config.ts';

export interface RunningEgress {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export async function startEgress(
  config: DeepReadonly<EgressConfig>,
  log: RoleLogger<'egress'>,
): Promise<RunningEgress> {
  const cert = readPem(config.tls.cert);
  const key = readPem(config.tls.key);
  const policy = compilePolicy(config.policy);
  const dialer = createTargetDialer({
    policy,
    connectTimeoutMs: config.timeouts.connectMs,
    dnsTimeoutMs: config.timeouts.dnsMs,
    resolve: withStaticHosts(
      config.dns.hosts,
      config.dns.servers ? serversResolve(config.dns.servers) : undefined,
    ),
    ...(config.localAddress ? { localAddress: config.localAddress } : {}),
  });

  const counters = {
    sessions: 0,
    flows: 0,
    udpFlows: 0,
    refusals: 0,
    bytesUp: 0,
    bytesDown: 0,
    datagramsUp: 0,
    datagramsDown: 0,
    datagramsDropped: 0,
  };
  const inner = createInnerSessionServer({
    cert,
    key,
    handshakeTimeoutMs: config.timeouts.handshakeMs,
    idleTimeoutMs: config.timeouts.idleMs,
    maxHeaderBytes: config.limits.maxHeaderBytes,
    proxyName: config.proxyName,
    async openFlow(target, signal) {
      const socket = await dialer.dial(
        { host: target.host, port: target.port, kind: 'tcp' },
        signal,
      );
      counters.flows++;
      return socket;
    },
    async openUdp(target, signal) {
      const socket = await dialer.dialUdp(
        { host: target.host, port: target.port, kind: 'udp' },
        signal,
      );
      counters.udpFlows++;
      return socket;
    },
    onUdpDone(stats) {
      counters.datagramsUp += stats.toTarget;
      counters.datagramsDown += stats.fromTarget;
      counters.datagramsDropped += stats.dropped;
    },
    onFlowRefused(err, target) {
      counters.refusals++;
      if (config.log.flows) {
        log.info('flow refused', {
          code: err.code,
          status: err.status,
          ...(target ? { targetHost: target.host, targetPort: target.port } : {}),
        });
      }
    },
    onFlowDone(stats) {
      counters.bytesUp += stats.aToB;
      counters.bytesDown += stats.bToA;
    },
  });

  const knownIngresses = config.knownIngresses.map((k) => ({
    name: k.name,
    certPem: readPem(k.cert),
  }));
  const server = createTrunkServer({
    cert,
    key,
    egressId: config.egressId,
    knownIngresses,
    handshakeTimeoutMs: config.timeouts.handshakeMs,
    proxyName: config.proxyName,
    onSession(stream) {
      counters.sessions++;
      inner.accept(stream);
    },
    onRefusal(err) {
      counters.refusals++;
      log.warn('trunk refused', { code: err.code, reason: err.details });
    },
  });

  const statsTimer = setInterval(
    () => log.info('stats', { ...counters, count: inner.activeSessions }),
    config.log.statsIntervalMs,
  );
  statsTimer.unref();

  const { host, port } = splitHostPort(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  log.info('trunk peers', { count: knownIngresses.length });
  return {
    address: server.address() as AddressInfo,
    async close() {
      clearInterval(statsTimer);
      inner.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
