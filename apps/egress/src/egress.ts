/**
 * Wires the egress: trunk listener (known ingresses only) → inner TLS with the egress key →
 * CONNECT flows → target policy and dialer. Nothing here can learn a client address: the
 * only peer this process talks to on the client's side is an ingress relay.
 */
import type { AddressInfo } from 'node:net';
import { ConcurrencyGate } from '@splitrelay/abuse-limits';
import { splitHostPort, readPem, type DeepReadonly } from '@splitrelay/config';
import { RelayError } from '@splitrelay/errors';
import type { RoleLogger } from '@splitrelay/log';
import { createInnerSessionServer } from '@splitrelay/inner-session';
import { createTargetDialer, serversResolve, withStaticHosts } from '@splitrelay/target-dialer';
import { compilePolicy } from '@splitrelay/target-policy';
import { createTrunkServer } from '@splitrelay/trunk';
import type { EgressConfig } from './config.ts';
import { joinControlPlane, type EgressControlPlane } from './control-plane.ts';
import { serveHealth } from '@splitrelay/service';

export interface RunningEgress {
  readonly address: AddressInfo;
  /** Re-reads the TLS identity files (SIGHUP). */
  reload(): void;
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
  // One slot per open flow, egress-wide: each holds a socket (a file descriptor) to a target.
  const flowGate = new ConcurrencyGate({ limit: config.limits.maxFlows ?? Infinity });
  /** A slot for a new flow, released once its socket closes, or the refusal to give one. */
  const takeFlowSlot = (): (() => void) => {
    const release = flowGate.tryAcquire('flows');
    if (release === undefined) {
      throw new RelayError('limit-reached', 'egress flow limit reached', {
        retryAfterSeconds: config.limits.flowLimitRetryAfterSeconds,
      });
    }
    return release;
  };
  const inner = createInnerSessionServer({
    cert,
    key,
    handshakeTimeoutMs: config.timeouts.handshakeMs,
    idleTimeoutMs: config.timeouts.idleMs,
    maxHeaderBytes: config.limits.maxHeaderBytes,
    maxFlowsPerSession: config.limits.maxFlowsPerSession,
    proxyName: config.proxyName,
    async openFlow(target, signal) {
      const release = takeFlowSlot();
      try {
        const socket = await dialer.dial(
          { host: target.host, port: target.port, kind: 'tcp' },
          signal,
        );
        socket.once('close', release);
        counters.flows++;
        return socket;
      } catch (err) {
        release();
        throw err;
      }
    },
    async openUdp(target, signal) {
      const release = takeFlowSlot();
      try {
        const socket = await dialer.dialUdp(
          { host: target.host, port: target.port, kind: 'udp' },
          signal,
        );
        socket.once('close', release);
        counters.udpFlows++;
        return socket;
      } catch (err) {
        release();
        throw err;
      }
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
  // Keyed by the ingress's trunk certificate name: the only identity the trunk has.
  const sessionGate = new ConcurrencyGate({
    limit: config.limits.maxSessionsPerIngress ?? config.capacity,
  });
  /** Sessions refused at the cap since the last stats line, per ingress (a few operators). */
  const limitedSince = new Map<string, number>();
  const trunk = createTrunkServer({
    cert,
    key,
    egressId: config.egressId,
    knownIngresses,
    handshakeTimeoutMs: config.timeouts.handshakeMs,
    proxyName: config.proxyName,
    sessionGate,
    limitRetryAfterSeconds: config.limits.sessionLimitRetryAfterSeconds,
    onSession(stream) {
      counters.sessions++;
      inner.accept(stream);
    },
    onRefusal(err, ingress) {
      counters.refusals++;
      if (err.code === 'limit-reached' && ingress !== undefined) {
        // An ingress at its cap may be refused thousands of times a second: summed per stats
        // line below, not logged one by one.
        limitedSince.set(ingress, (limitedSince.get(ingress) ?? 0) + 1);
        return;
      }
      log.warn('trunk refused', { code: err.code, reason: err.details });
    },
  });

  const server = trunk.server;

  let controlPlane: EgressControlPlane | undefined;
  if (config.controlPlane) {
    controlPlane = await joinControlPlane(
      config.controlPlane,
      config.egressId,
      log,
      () => ({ sessions: inner.activeSessions, capacity: config.capacity }),
      (announced) => {
        // Admitted: the configured ingresses plus those their operator currently vouches for.
        const fromControlPlane = [...announced.values()].map((c) => ({
          name: c.id,
          certPem: c.certPem,
        }));
        trunk.update({ knownIngresses: [...knownIngresses, ...fromControlPlane] });
        log.info('trunk peers', { count: knownIngresses.length + fromControlPlane.length });
      },
    );
  }

  const statsTimer = setInterval(() => {
    log.info('stats', { ...counters, count: inner.activeSessions });
    for (const [ingress, refusals] of limitedSince) {
      log.warn('session limit reached', {
        ingress,
        refusals,
        sessions: sessionGate.active(ingress),
        code: 'limit-reached',
      });
    }
    limitedSince.clear();
  }, config.log.statsIntervalMs);
  statsTimer.unref();

  const { host, port } = splitHostPort(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  log.info('trunk peers', { count: knownIngresses.length });
  const health = config.health
    ? await serveHealth(
        splitHostPort(config.health.listen).host,
        splitHostPort(config.health.listen).port,
        () => ({
          ok: true,
          role: 'egress',
          controlPlane: controlPlane?.state() ?? 'static',
          sessions: inner.activeSessions,
          capacity: config.capacity,
        }),
      )
    : undefined;
  return {
    address: server.address() as AddressInfo,
    reload() {
      // Key rotation: new handshakes (trunk and inner) use the new key, open sessions keep theirs.
      const next = { cert: readPem(config.tls.cert), key: readPem(config.tls.key) };
      trunk.update(next);
      inner.setIdentity(next.cert, next.key);
      log.info('tls identity reloaded');
    },
    async close() {
      clearInterval(statsTimer);
      await controlPlane?.close();
      await health?.close();
      inner.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
