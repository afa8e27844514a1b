/**
 * Wires the egress: trunk listener (known ingresses only) → inner TLS with the egress key →
 * CONNECT flows → target policy and dialer. Nothing here can learn a client address: the
 * only peer this process talks to on the client's side is an ingress relay.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { ConcurrencyGate } from '@splitrelay/abuse-limits';
import { splitHostPort, readPem, type DeepReadonly } from '@splitrelay/config';
import type { RoleLogger } from '@splitrelay/log';
import { createInnerSessionServer } from '@splitrelay/inner-session';
import { createTargetDialer, serversResolve, withStaticHosts } from '@splitrelay/target-dialer';
import { compilePolicy } from '@splitrelay/target-policy';
import { createTrunkServer } from '@splitrelay/trunk';
import type { EgressConfig } from './config.ts';
import { joinControlPlane, type EgressControlPlane } from './control-plane.ts';
import { serveHealth } from '@splitrelay/service';
import { setUpOhttpGateway } from './ohttp-gateway-setup.ts';

export interface RunningEgress {
  readonly address: AddressInfo;
  /** Re-reads the TLS identity files and the OHTTP key ring (SIGHUP). */
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
  const inner = createInnerSessionServer({
    cert,
    key,
    handshakeTimeoutMs: config.timeouts.handshakeMs,
    idleTimeoutMs: config.timeouts.idleMs,
    maxHeaderBytes: config.limits.maxHeaderBytes,
    maxFlowsPerSession: config.limits.maxFlowsPerSession,
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
  // Keyed by the ingress's trunk certificate name: the only identity the trunk has.
  const sessionGate = new ConcurrencyGate({
    limit: config.limits.maxSessionsPerIngress ?? config.capacity,
  });
  /** Sessions refused at the cap since the last stats line, per ingress (a few operators). */
  const limitedSince = new Map<string, number>();
  const ohttp = await setUpOhttpGateway(config, dialer, log);

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
    ...(ohttp
      ? {
          onRequest: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
            ohttp.gateway.handle(stream, headers),
        }
      : {}),
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
    log.info('stats', {
      ...counters,
      count: inner.activeSessions,
      ...(ohttp
        ? {
            ohttpRequests: ohttp.gateway.counters.requests,
            ohttpRefused: Object.values(ohttp.gateway.counters.refused).reduce((a, b) => a + b, 0),
            ohttpDoh: ohttp.gateway.counters.doh,
          }
        : {}),
    });
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
      void ohttp?.reload();
    },
    async close() {
      clearInterval(statsTimer);
      await controlPlane?.close();
      await health?.close();
      inner.close();
      await ohttp?.gateway.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
