/**
 * Wires the ingress: client-facing listener → egress view (signed directory + health) →
 * trunk to the egress. The only thing this process learns about a tunnel is which egress it
 * goes to.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:tls';
import { splitHostPort, readPem, type DeepReadonly } from '@splitrelay/config';
import {
  DIRECTORY_PATH,
  EGRESS_HEALTH_PATH,
  MANIFEST_PATH,
  parseEndpoint,
  readSignedEntries,
  readTrustedKeys,
} from '@splitrelay/directory';
import { SESSION_RATE_REFUSAL } from '@splitrelay/abuse-limits';
import { RelayError } from '@splitrelay/errors';
import { serveHealth } from '@splitrelay/service';
import type { RoleLogger } from '@splitrelay/log';
import { createOuterHopServer } from '@splitrelay/outer-hop';
import { TrunkPool } from '@splitrelay/trunk';
import type { IngressConfig } from './config.ts';
import { joinControlPlane, type IngressControlPlane } from './control-plane.ts';
import { EgressView } from '@splitrelay/control-plane';
import { setUpAdmission } from './admission-setup.ts';
import { setUpOhttpRelay } from './ohttp-relay-setup.ts';
import { ingressClaims } from './manifest.ts';
import { loadSignedManifest, operatorKid } from '@splitrelay/operator-manifest';
import type { SignedEnvelope } from '@splitrelay/directory';

const SIGN_MANIFEST =
  'node apps/ingress/src/sign-manifest.ts --config <this config> --key <operator.key> --days N';

export interface RunningIngress {
  readonly address: AddressInfo;
  /** SIGHUP: re-reads the trunk certificate and key (rotation) and the directory file. */
  reload(): void;
  close(): Promise<void>;
}

export async function startIngress(
  config: DeepReadonly<IngressConfig>,
  log: RoleLogger<'ingress'>,
): Promise<RunningIngress> {
  /** The signed manifest, checked against what this ingress runs with (or it does not start). */
  const loadManifest = (): SignedEnvelope | undefined => {
    if (!config.manifest) return undefined;
    const { file, operatorPublicKey } = config.manifest;
    const claims = ingressClaims(config, operatorKid(operatorPublicKey));
    const now = Math.floor(Date.now() / 1000);
    return loadSignedManifest(file, operatorPublicKey, claims, now, SIGN_MANIFEST).signed;
  };
  let manifest = loadManifest();
  const manifestRoute = () => ({ type: 'application/json', body: `${JSON.stringify(manifest)}\n` });
  const view = new EgressView(readTrustedKeys(config.directory.operatorKeys));
  const directoryFile = config.directory.file;
  const reloadDirectory = (): void => {
    if (directoryFile === undefined) return;
    try {
      for (const signed of readSignedEntries(directoryFile)) {
        const result = view.applyEntry(signed);
        if (!result.accepted && result.reason !== 'stale-version') {
          log.warn('directory entry rejected', { reason: result.reason ?? 'invalid' });
        }
      }
      log.info('directory loaded', { count: view.entries().size });
    } catch (err) {
      // Fail static: keep serving on the last verified entries until they expire.
      log.error('directory reload failed', { reason: (err as Error).message });
    }
  };
  reloadDirectory();
  const reloadTimer = setInterval(reloadDirectory, config.directory.reloadMs);
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
  let openSessions = 0;
  let controlPlane: IngressControlPlane | undefined;
  if (config.controlPlane) {
    controlPlane = await joinControlPlane(
      config.controlPlane,
      view,
      log,
      () => manifest,
      () => ({
        sessions: openSessions,
        capacity: config.trunk.maxStreamsPerConnection * config.trunk.maxConnectionsPerEgress,
      }),
    );
  }
  const { rate, redeemer, tokenKeys, spentTokens } = await setUpAdmission(
    config.admission,
    controlPlane?.client,
    log,
  );

  const ohttp = config.ohttp
    ? setUpOhttpRelay(config.ohttp, {
        view,
        pool,
        redeemer,
        maxAddresses: config.admission.rateLimit.maxAddresses,
        proxyName: config.proxyName,
        log,
      })
    : undefined;

  const server: Server = createOuterHopServer({
    cert: readPem(config.tls.cert),
    key: readPem(config.tls.key),
    handshakeTimeoutMs: config.timeouts.handshakeMs,
    idleTimeoutMs: config.timeouts.idleMs,
    maxHeaderBytes: config.limits.maxHeaderBytes,
    proxyName: config.proxyName,
    routes: {
      // Served unmodified: clients verify the egress operator's signatures themselves.
      [DIRECTORY_PATH]: () => ({
        type: 'application/json',
        body: JSON.stringify(view.directoryFile()),
      }),
      [EGRESS_HEALTH_PATH]: () => ({
        type: 'application/json',
        body: JSON.stringify({ controlPlane: view.state, egresses: view.healthSnapshot() }),
      }),
      // Public, like the directory: clients and auditors read what this ingress promises.
      ...(manifest ? { [MANIFEST_PATH]: manifestRoute } : {}),
    },
    ...(ohttp ? { onRequest: (request, reply) => ohttp.handle(request, reply) } : {}),
    async openTunnel({ egressId, clientAddr, proxyAuthorization }, signal) {
      // The egress is checked first so a token is never spent on a tunnel refused anyway.
      const entry = view.admit(egressId);
      rate.admit(clientAddr);
      await redeemer?.redeem(proxyAuthorization);
      const endpoint = parseEndpoint(entry.endpoint);
      if (!endpoint) throw new RelayError('unknown-egress', 'egress endpoint is invalid');
      const stream = await pool.open(
        { id: entry.id, host: endpoint.host, port: endpoint.port, pins: entry.tlsPins },
        signal,
      );
      counters.sessions++;
      openSessions++;
      stream.once('close', () => openSessions--);
      return stream;
    },
    onRefusal(err, request) {
      counters.refusals++;
      log.debug('refused', {
        code: err.code,
        status: err.status,
        // The requested name is the client's: only a real egress id may be kept. Anything else
        // (a client naming its target here) is never written down.
        ...(request.egressId && view.entries().has(request.egressId)
          ? { egressId: request.egressId }
          : {}),
      });
    },
    onTunnelDone(stats) {
      counters.bytesUp += stats.aToB;
      counters.bytesDown += stats.bToA;
    },
  });

  const statsTimer = setInterval(
    () =>
      log.info('stats', {
        ...counters,
        ...admissionStats(rate.refused, redeemer?.counters ?? {}),
        ...(ohttp
          ? { ohttpRelayed: ohttp.counters.relayed, ohttpRefused: ohttp.counters.refused }
          : {}),
        sessions: openSessions,
        reason: `control plane: ${view.state}`,
      }),
    config.log.statsIntervalMs,
  );
  statsTimer.unref();

  const { host, port } = splitHostPort(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const health = config.health
    ? await serveHealth(
        splitHostPort(config.health.listen).host,
        splitHostPort(config.health.listen).port,
        () => ({
          ok: view.entries().size > 0,
          role: 'ingress',
          controlPlane: view.state,
          egresses: view.healthSnapshot(),
          sessions: openSessions,
          ...(tokenKeys
            ? {
                tokenKeys: tokenKeys.snapshot(),
                spentTokenStore: spentTokens?.healthy ? 'ok' : 'unavailable',
              }
            : {}),
        }),
        manifest ? { [MANIFEST_PATH]: manifestRoute } : {},
      )
    : undefined;

  return {
    address: server.address() as AddressInfo,
    reload() {
      // Read both before using either, so a half-written pair is refused whole.
      const identity = { cert: readPem(config.trunk.cert), key: readPem(config.trunk.key) };
      createPrivateKey(identity.key);
      new X509Certificate(identity.cert);
      pool.setIdentity(identity);
      log.info('trunk identity reloaded');
      reloadDirectory();
      try {
        // A re-signed manifest goes out without a restart; a bad one is refused, the last kept.
        manifest = loadManifest();
      } catch (err) {
        log.error('manifest reload failed', { reason: (err as Error).message });
      }
    },
    async close() {
      clearInterval(reloadTimer);
      clearInterval(statsTimer);
      await spentTokens?.close();
      await controlPlane?.close();
      await health?.close();
      pool.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function admissionStats(
  rateRefused: number,
  counters: Readonly<Record<string, number>>,
): { tokensRedeemed: number; admissionRefusals: Record<string, number> } {
  const { redeemed = 0, ...refusals } = counters;
  return {
    tokensRedeemed: redeemed,
    admissionRefusals: {
      ...refusals,
      ...(rateRefused > 0 ? { [SESSION_RATE_REFUSAL]: rateRefused } : {}),
    },
  };
}
