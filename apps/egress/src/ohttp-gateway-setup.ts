/**
 * The egress's Oblivious HTTP gateway from its config: the key ring file (re-read on SIGHUP,
 * like the TLS key), undici through the same target dialer as tunnels (each connection from
 * the source the egress draws for it, with address pools), and the DoH resolver (the egress's
 * own, never one a client names).
 */
import { getServers } from 'node:dns';
import { isIP } from 'node:net';
import { readPem, type DeepReadonly } from '@splitrelay/config';
import type { RoleLogger } from '@splitrelay/log';
import {
  createOhttpGateway,
  createOriginAgent,
  readKeyRing,
  type DohOptions,
  type OhttpGateway,
} from '@splitrelay/ohttp-gateway';
import type { SourceAddresses, TargetDialer } from '@splitrelay/target-dialer';
import type { EgressConfig } from './config.ts';

export interface EgressOhttp {
  readonly gateway: OhttpGateway;
  /** SIGHUP: the key ring file again; a bad file keeps the keys in use. */
  reload(): Promise<void>;
}

/** ip, ip:port or [v6]:port (port 53 by default), as dns.servers and getServers() spell them. */
export function resolverAddress(text: string): { host: string; port: number } {
  if (isIP(text) !== 0) return { host: text, port: 53 };
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text);
  if (match === null || isIP(match[1]!) === 0)
    throw new RangeError(`not a resolver address: ${text}`);
  return { host: match[1]!, port: Number(match[2]) };
}

export function dohUpstream(
  config: DeepReadonly<EgressConfig>,
): { host: string; port: number } | undefined {
  const named = config.ohttp?.doh?.upstream ?? config.dns.servers?.[0] ?? getServers()[0];
  return named === undefined ? undefined : resolverAddress(named);
}

export async function setUpOhttpGateway(
  config: DeepReadonly<EgressConfig>,
  dialer: TargetDialer,
  log: RoleLogger<'egress'>,
  /** Where each target connection leaves from (drawn from the pools); absent, the dialer's. */
  source?: () => SourceAddresses,
): Promise<EgressOhttp | undefined> {
  const ohttp = config.ohttp;
  if (!ohttp) return undefined;
  const upstream = ohttp.doh ? dohUpstream(config) : undefined;
  if (ohttp.doh && !upstream) log.warn('no resolver for DoH: DoH requests are refused');
  const doh: DohOptions | undefined = upstream
    ? {
        upstream,
        timeoutMs: ohttp.doh?.timeoutMs ?? 5000,
        ...(config.localAddress ? { localAddress: config.localAddress } : {}),
      }
    : undefined;
  const gateway = await createOhttpGateway({
    keys: readKeyRing(ohttp.keyRing),
    agent: createOriginAgent({
      dialer,
      ...(source ? { source } : {}),
      connectTimeoutMs: config.timeouts.connectMs,
      ...(ohttp.ca ? { ca: readPem(ohttp.ca) } : {}),
    }),
    limits: {
      maxRequestBytes: ohttp.maxRequestBytes,
      maxResponseBytes: ohttp.maxResponseBytes,
      maxConcurrent: ohttp.maxConcurrent,
    },
    timeouts: ohttp.timeouts,
    proxyName: config.proxyName,
    ...(doh ? { doh } : {}),
    ...(ohttp.doh ? { dohAuthority: ohttp.doh.authority } : {}),
    onRefused(err, target) {
      if (!config.log.flows) return;
      log.info('ohttp request refused', {
        code: err.code,
        status: err.status,
        ...(target ? { targetHost: target.target.host, targetPort: target.target.port } : {}),
      });
    },
  });
  log.info('ohttp gateway', { count: gateway.publishedKeyIds().length });
  return {
    gateway,
    async reload() {
      try {
        await gateway.setKeys(readKeyRing(ohttp.keyRing));
        log.info('ohttp keys reloaded', { count: gateway.publishedKeyIds().length });
      } catch (err) {
        log.error('ohttp keys reload failed', { reason: (err as Error).message });
      }
    },
  };
}
