/**
 * Wires the issuer: TLS 1.3 listener (HTTP/2 and HTTP/1.1) → attester → rate limit →
 * RFC 9578 issuance with the keys valid now; key announcements on NATS; aggregate logs.
 * What it learns about a subscriber ends at the rate counter: it never sees a token again.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { readPem, splitHostPort, type DeepReadonly } from '@splitrelay/config';
import { serveHealth } from '@splitrelay/service';
import { tlsDefaults } from '@splitrelay/transport';
import type { RoleLogger } from '@splitrelay/log';
import { FileAttester, type Attester } from './attester.ts';
import type { IssuerConfig } from './config.ts';
import { joinControlPlane, type IssuerControlPlane } from './control-plane.ts';
import { createHandler } from './handler.ts';
import { issuerKeysMessage } from '@splitrelay/control-plane';
import type { IssuerKeySet } from '@splitrelay/privacy-pass';
import { loadKeySet } from './load-keys.ts';
import { WindowQuota } from '@splitrelay/abuse-limits';
import type { RefusalCode } from './refusal.ts';

export interface RunningIssuer {
  readonly address: AddressInfo;
  readonly keysNow: number;
  /**
   * SIGHUP: re-reads the key list and key files, the attester's file and the TLS identity, and
   * announces the keys at once.
   */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** Idle HTTP/2 sessions and HTTP/1.1 connections are closed after this long. */
const IDLE_TIMEOUT_MS = 60_000;

function makeAttester(config: DeepReadonly<IssuerConfig>['attester']): Attester {
  switch (config.type) {
    case 'file':
      return new FileAttester(config.file);
  }
}

export interface IssuerOptions {
  /** Unix milliseconds; Date.now by default. */
  readonly now?: () => number;
  /**
   * The config as it is now on disk, for a reload to take `keys` from (a rotation edits the
   * list). Without it a reload re-reads the key files of the list it started with.
   */
  readonly rereadConfig?: () => Promise<DeepReadonly<IssuerConfig>>;
}

export async function startIssuer(
  config: DeepReadonly<IssuerConfig>,
  log: RoleLogger<'issuer'>,
  options: IssuerOptions = {},
): Promise<RunningIssuer> {
  const now = options.now ?? Date.now;
  let keys: IssuerKeySet = await loadKeySet(config.keys);
  const attester = makeAttester(config.attester);
  const limiter = new WindowQuota(config.limits.tokensPerSubscriberPerHour);
  const nowSeconds = (): number => Math.floor(now() / 1000);

  let issued = 0;
  const refused = new Map<RefusalCode, number>();
  const handler = createHandler({
    keys: () => keys,
    attester: () => attester,
    limiter,
    maxRequestBytes: config.limits.maxRequestBytes,
    maxBatch: config.limits.maxBatch,
    now,
    onIssued: (count) => {
      issued += count;
    },
    onRefused: (code, subscriber, first) => {
      refused.set(code, (refused.get(code) ?? 0) + 1);
      // The one identity the issuer ever logs: who hit the limit, once per window.
      if (code === 'rate-limited' && first && subscriber !== undefined) {
        log.info('subscriber rate limited', { code, subscriber });
      }
    },
  });

  const server = http2.createSecureServer({
    ...tlsDefaults,
    cert: readPem(config.tls.cert),
    key: readPem(config.tls.key),
    allowHTTP1: true,
  });
  server.on('request', handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const h1Sockets = new Set<TLSSocket>();
  server.on('secureConnection', (socket) => {
    if (socket.alpnProtocol === 'h2') return;
    h1Sockets.add(socket);
    socket.once('close', () => h1Sockets.delete(socket));
  });
  server.setTimeout(IDLE_TIMEOUT_MS);
  // Bad peers end their own connection, never the process.
  server.on('sessionError', () => {});
  server.on('tlsClientError', () => {});
  server.on('clientError', (_err, socket) => socket.destroy());

  const stats = setInterval(() => {
    limiter.prune(now());
    let refusals = 0;
    for (const [code, count] of refused) {
      refusals += count;
      log.info('refusals', { code, count });
    }
    log.info('stats', { issued, refusals, keys: keys.validAt(nowSeconds()).length });
    issued = 0;
    refused.clear();
  }, config.log.statsIntervalMs);
  stats.unref();

  let controlPlane: IssuerControlPlane | undefined;
  if (config.controlPlane) {
    const cp = config.controlPlane;
    controlPlane = await joinControlPlane(cp, log, () =>
      issuerKeysMessage(
        cp.issuerId,
        config.issuerName,
        now(),
        keys.announced(Math.floor(now() / 1000)),
      ),
    );
  }

  const { host, port } = splitHostPort(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const keysNow = keys.validAt(nowSeconds()).length;
  if (keysNow === 0) log.warn('no token key issues now', { keys: 0 });

  const health = config.health
    ? await serveHealth(
        splitHostPort(config.health.listen).host,
        splitHostPort(config.health.listen).port,
        () => {
          const current = keys.validAt(nowSeconds()).length;
          return {
            ok: current > 0,
            role: 'issuer',
            keys: current,
            controlPlane: controlPlane?.state() ?? 'static',
          };
        },
      )
    : undefined;

  return {
    address: server.address() as AddressInfo,
    keysNow,
    async reload() {
      // Everything is read and checked first; one bad file leaves the old state in place.
      // Only `keys` is taken from a re-read config: anything else needs a restart.
      const current = options.rereadConfig ? await options.rereadConfig() : config;
      const nextKeys = await loadKeySet(current.keys);
      const cert = readPem(config.tls.cert);
      const key = readPem(config.tls.key);
      attester.reload?.();
      server.setSecureContext({ ...tlsDefaults, cert, key });
      keys = nextKeys;
      controlPlane?.announce();
      log.info('reloaded', { keys: keys.validAt(nowSeconds()).length });
    },
    async close() {
      clearInterval(stats);
      await controlPlane?.close();
      await health?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open HTTP/2 sessions and keep-alive HTTP/1.1 connections would hold close() open.
        for (const session of sessions) session.close();
        for (const socket of h1Sockets) socket.destroy();
      });
    },
  };
}
