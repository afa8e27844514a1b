/**
 * The ingress's Oblivious HTTP relay from its config: which egresses have a gateway (their
 * signed entry lists `ohttpKeys`), the admission of each request (a rate per client address,
 * then Privacy Pass with one token per `requestsPerToken` requests on a connection), and the
 * trunk that carries it. The keys resource serves the signed entry's bytes: the ingress
 * never makes up a key of its own, and clients check them against the directory anyway.
 */
import { RateLimiter, clientAddressKey } from '@splitrelay/abuse-limits';
import type { DeepReadonly } from '@splitrelay/config';
import { OHTTP_KEYS_PREFIX, ohttpKeysBytes, parseEndpoint } from '@splitrelay/directory';
import type { EgressView } from '@splitrelay/control-plane';
import { RelayError } from '@splitrelay/errors';
import type { RoleLogger } from '@splitrelay/log';
import { RequestCredit, createOhttpRelay, type OhttpRelay } from '@splitrelay/ohttp-relay';
import type { TokenRedeemer } from '@splitrelay/privacy-pass';
import type { TrunkPool } from '@splitrelay/trunk';
import type { IngressConfig } from './config.ts';

export const OHTTP_RATE_REFUSAL = 'too many oblivious HTTP requests from this address';

export function setUpOhttpRelay(
  config: DeepReadonly<NonNullable<IngressConfig['ohttp']>>,
  deps: {
    readonly view: EgressView;
    readonly pool: TrunkPool;
    readonly redeemer: TokenRedeemer | undefined;
    readonly maxAddresses: number;
    readonly proxyName: string;
    readonly log: RoleLogger<'ingress'>;
  },
): OhttpRelay & { readonly rateRefused: () => number } {
  const { view, pool, redeemer } = deps;
  const rate = new RateLimiter({
    ratePerSecond: config.rateLimit.requestsPerSecond,
    burst: config.rateLimit.burst,
    maxKeys: deps.maxAddresses,
  });
  let rateRefused = 0;
  const credit = redeemer
    ? new RequestCredit({ requestsPerToken: config.requestsPerToken })
    : undefined;

  const relay = createOhttpRelay({
    relayPrefix: config.relayPrefix,
    keysPrefix: OHTTP_KEYS_PREFIX,
    maxRequestBytes: config.maxRequestBytes,
    maxResponseBytes: config.maxResponseBytes,
    timeoutMs: config.timeoutMs,
    proxyName: deps.proxyName,
    gateway(egressId) {
      // Known and up, checked before admission, so no token is spent on a refused request.
      const entry = view.admit(egressId);
      return {
        id: entry.id,
        ohttpKeys: entry.ohttpKeys === undefined ? undefined : ohttpKeysBytes(entry.ohttpKeys),
      };
    },
    async admit(request) {
      const decision = rate.take(clientAddressKey(request.clientAddr));
      if (!decision.ok) {
        rateRefused++;
        throw new RelayError('rate-limited', OHTTP_RATE_REFUSAL, {
          retryAfterSeconds: decision.retryAfterSeconds,
        });
      }
      if (!redeemer || !credit) return;
      if (credit.take(request.connection)) return;
      const authorization = request.headers.authorization;
      if (Array.isArray(authorization))
        throw new RelayError('malformed-request', 'more than one Authorization');
      await redeemer.redeem(authorization);
      credit.grant(request.connection);
    },
    async send(egressId, headers, signal) {
      const entry = view.admit(egressId);
      const endpoint = parseEndpoint(entry.endpoint);
      if (!endpoint) throw new RelayError('unknown-egress', 'egress endpoint is invalid');
      return pool.request(
        { id: entry.id, host: endpoint.host, port: endpoint.port, pins: entry.tlsPins },
        headers,
        signal,
      );
    },
    onRefusal(err, egressId) {
      deps.log.debug('ohttp refused', {
        code: err.code,
        status: err.status,
        ...(egressId !== undefined ? { egressId } : {}),
      });
    },
  });
  return Object.assign(relay, { rateRefused: () => rateRefused });
}
