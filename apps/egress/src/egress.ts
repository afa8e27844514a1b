/**
 * Wires the egress: trunk listener (known ingresses only) → inner TLS with the egress key →
 * CONNECT flows → target policy and dialer. Nothing here can learn a client address: the
 * only peer this process talks to on the client's side is an ingress relay. With address
 * pools, each inner session draws its source addresses once, from the region its geo hint
 * selects, and every flow of the session leaves from them.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { ConcurrencyGate } from '@splitrelay/abuse-limits';
import { splitHostPort, readPem, type DeepReadonly } from '@splitrelay/config';
import { RelayError } from '@splitrelay/errors';
import type { RoleLogger } from '@splitrelay/log';
import { createInnerSessionServer } from '@splitrelay/inner-session';
import {
  createTargetDialer,
  serversResolve,
  withStaticHosts,
  type SourceAddresses,
} from '@splitrelay/target-dialer';
import {
  DrawCounters,
  compilePools,
  generateGeofeed,
  openSessionSource,
  readHint,
  type AddressPools,
  type EgressAddressesConfig,
  type SessionSource,
} from '@splitrelay/egress-addresses';
import { compilePolicy } from '@splitrelay/target-policy';
import { createTrunkServer } from '@splitrelay/trunk';
import type { EgressConfig } from './config.ts';
import { joinControlPlane, type EgressControlPlane } from './control-plane.ts';
import { egressClaims, statedAddresses } from './manifest.ts';
import { MANIFEST_PATH, type SignedEnvelope } from '@splitrelay/directory';
import { loadSignedManifest, operatorKid } from '@splitrelay/operator-manifest';
import { serveHealth, type HealthRoute } from '@splitrelay/service';
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
  /** The signed manifest, checked against what this egress runs with (or it does not start). */
  const loadManifest = (): SignedEnvelope | undefined => {
    if (!config.manifest) return undefined;
    const { file, operatorPublicKey } = config.manifest;
    const claims = egressClaims(config, operatorKid(operatorPublicKey));
    const now = Math.floor(Date.now() / 1000);
    return loadSignedManifest(file, operatorPublicKey, claims, now, SIGN_MANIFEST).signed;
  };
  let manifest = loadManifest();
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

  // The loader validated it (host routes included); compiling only turns it into integers.
  const pools: AddressPools | undefined = config.addresses
    ? compilePools(config.addresses as EgressAddressesConfig)
    : undefined;
  const draws = new DrawCounters();
  /**
   * One draw per inner session, from the hint on its first request. The addresses live only
   * in the session's context: never logged, never counted per session.
   */
  const openSession = (head: Readonly<Record<string, unknown>>): SourceAddresses | undefined => {
    if (pools === undefined) return undefined;
    const { hint, invalid } = readHint(head as Parameters<typeof readHint>[0], pools.hintPrecision);
    return sourceAddresses(
      openSessionSource({
        pools,
        hint,
        invalidHint: invalid,
        rng: (n) => randomBytes(n),
        counters: draws,
      }),
    );
  };
  /**
   * Where each of the Oblivious HTTP gateway's target connections leaves from. A gateway
   * request is no inner session: it carries no geo hint (the client's location goes inside
   * inner sessions only) and nothing ties it to the client's other requests, so each new
   * connection draws afresh, uniformly, from the default region. The connections are pooled
   * across every client's requests, so a source address stands for no client; and no two
   * connections share a draw, so the target cannot join them by address either. Not counted
   * with the sessions' draws: the stats lines' draw totals are per inner session.
   */
  const gatewaySource = pools
    ? (): SourceAddresses =>
        sourceAddresses(openSessionSource({ pools, rng: (n) => randomBytes(n) }))
    : undefined;

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
  const inner = createInnerSessionServer<SourceAddresses | undefined>({
    cert,
    key,
    handshakeTimeoutMs: config.timeouts.handshakeMs,
    idleTimeoutMs: config.timeouts.idleMs,
    maxHeaderBytes: config.limits.maxHeaderBytes,
    maxFlowsPerSession: config.limits.maxFlowsPerSession,
    proxyName: config.proxyName,
    openSession,
    async openFlow(target, signal, source) {
      const release = takeFlowSlot();
      try {
        const socket = await dialer.dial(
          { host: target.host, port: target.port, kind: 'tcp' },
          signal,
          source,
        );
        socket.once('close', release);
        counters.flows++;
        return socket;
      } catch (err) {
        release();
        throw err;
      }
    },
    async openUdp(target, signal, source) {
      const release = takeFlowSlot();
      try {
        const socket = await dialer.dialUdp(
          { host: target.host, port: target.port, kind: 'udp' },
          signal,
          source,
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
  const ohttp = await setUpOhttpGateway(config, dialer, log, gatewaySource);

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
      () => manifest,
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
      ...(pools ? drawTotals(draws) : {}),
      ...(ohttp
        ? {
            ohttpRequests: ohttp.gateway.counters.requests,
            ohttpRefused: Object.values(ohttp.gateway.counters.refused).reduce((a, b) => a + b, 0),
            ohttpDoh: ohttp.gateway.counters.doh,
          }
        : {}),
    });
    if (pools) {
      const { byRegion } = draws.snapshot();
      for (const [region, n] of Object.entries(byRegion))
        log.info('address draws', { region, ipv4Draws: n.ipv4, ipv6Draws: n.ipv6 });
    }
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
          // The entropy of one draw per region and family, as the manifest states it.
          ...(pools ? { addresses: statedAddresses(pools, config) } : {}),
        }),
        publishedDocuments(pools, config.egressId, () => manifest),
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
      try {
        // A re-signed manifest (longer validity) goes out without a restart; a bad one is
        // refused and the last good one kept.
        manifest = loadManifest();
      } catch (err) {
        log.error('manifest reload failed', { reason: (err as Error).message });
      }
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

function sourceAddresses(source: SessionSource): SourceAddresses {
  return { ipv4: source.sourceFor(4)?.address, ipv6: source.sourceFor(6)?.address };
}

/** The draw counters as stats-line fields: totals since start, like the other counters. */
function drawTotals(draws: DrawCounters) {
  const d = draws.snapshot();
  return {
    drawSessions: d.sessions,
    hintsGeohash: d.matchedBy.geohash,
    hintsSubdivision: d.matchedBy.subdivision,
    hintsCountry: d.matchedBy.country,
    hintsDefault: d.matchedBy.default,
    hintsInvalid: d.invalidHints,
  };
}

/** Where the health listener serves this egress's geofeed (the directory entry names the URL). */
export const GEOFEED_PATH = '/geofeed.csv';

const SIGN_MANIFEST =
  'node apps/egress/src/sign-manifest.ts --config <this config> --key <operator.key> --days N';

/**
 * What the operator's endpoint publishes besides health: the geofeed of the pools, and the
 * signed manifest exactly as signed.
 */
function publishedDocuments(
  pools: AddressPools | undefined,
  egressId: string,
  manifest: () => SignedEnvelope | undefined,
): Record<string, HealthRoute> {
  const routes: Record<string, HealthRoute> = {};
  if (pools !== undefined) {
    // Made once: it follows from the config, which a running egress never changes.
    const geofeed = generateGeofeed(pools, { comments: [`splitrelay egress ${egressId}`] });
    routes[GEOFEED_PATH] = () => ({ type: 'text/csv; charset=utf-8', body: geofeed });
  }
  if (manifest() !== undefined) {
    routes[MANIFEST_PATH] = () => ({
      type: 'application/json',
      body: `${JSON.stringify(manifest())}\n`,
    });
  }
  return routes;
}
