/**
 * Name resolution at the egress (never on the client: its resolver belongs to the ingress
 * side), bounded in time, with resolver failures mapped to RFC 9209 dns_error/dns_timeout.
 */
import { promises as dns } from 'node:dns';
import { RelayError } from '@splitrelay/errors';
import { withDeadline } from '@splitrelay/transport';

/**
 * Returns every address of a name, as text, in the resolver's order. The signal fires when
 * the dialer stops waiting; a resolver that can cancel its query should.
 */
export type Resolve = (host: string, signal: AbortSignal) => Promise<readonly string[]>;

/**
 * getaddrinfo through libuv's thread pool. `order: 'verbatim'` keeps the resolver's (RFC 6724)
 * order rather than Node's IPv4-first, so address selection stays the system's.
 */
export const systemResolve: Resolve = async (host) => {
  const answers = await dns.lookup(host, { all: true, order: 'verbatim' });
  return answers.map((a) => a.address);
};

/** Resolver error codes (node:dns and c-ares spellings) to DNS rcodes for `details`. */
const rcodes: Readonly<Record<string, string>> = {
  ENOTFOUND: 'NXDOMAIN',
  ENODATA: 'NODATA',
  ESERVFAIL: 'SERVFAIL',
  EAI_AGAIN: 'SERVFAIL',
  EREFUSED: 'REFUSED',
  EFORMERR: 'FORMERR',
  ENOTIMP: 'NOTIMP',
  EBADRESP: 'FORMERR',
};

const timeoutCodes = new Set(['ETIMEOUT', 'ETIMEDOUT']);

export function dnsError(err: unknown): RelayError {
  if (err instanceof RelayError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && timeoutCodes.has(code)) {
    return new RelayError('dns-timeout', 'resolver timed out', { cause: err });
  }
  const rcode = typeof code === 'string' ? rcodes[code] : undefined;
  return new RelayError('dns-error', rcode ?? 'resolver failure', { cause: err });
}

export async function resolveName(
  resolve: Resolve,
  name: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<readonly string[]> {
  try {
    return await withDeadline((inner) => resolve(name, inner), {
      ms: timeoutMs,
      signal,
      onTimeout: () => new RelayError('dns-timeout', `no answer within ${timeoutMs} ms`),
    });
  } catch (err) {
    if (signal?.aborted && err === signal.reason) throw err;
    throw dnsError(err);
  }
}

/**
 * An operator's static names (like /etc/hosts, but in the egress config) answered before
 * the system resolver. The answers still go through the target policy like any other.
 */
export function withStaticHosts(
  hosts: Readonly<Record<string, readonly string[]>>,
  next: Resolve = systemResolve,
): Resolve {
  const table = new Map(
    Object.entries(hosts).map(([name, ips]) => [name.toLowerCase().replace(/\.$/, ''), ips]),
  );
  return (host, signal) => {
    const known = table.get(host.toLowerCase().replace(/\.$/, ''));
    return known ? Promise.resolve(known) : next(host, signal);
  };
}

/**
 * Queries the given DNS servers directly (A and AAAA) instead of getaddrinfo: for an egress
 * that must use its own resolvers, and for tests that keep DNS on loopback. Abort cancels
 * the queries in flight.
 */
export function serversResolve(servers: readonly string[]): Resolve {
  return async (host, signal) => {
    const resolver = new dns.Resolver({ tries: 1 });
    resolver.setServers([...servers]);
    const cancel = (): void => resolver.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
      const answers = [
        ...(v6.status === 'fulfilled' ? v6.value : []),
        ...(v4.status === 'fulfilled' ? v4.value : []),
      ];
      if (answers.length > 0) return answers;
      // NXDOMAIN says more than NODATA from the other family: report the most telling error.
      const errors = [v4, v6].flatMap((r) =>
        r.status === 'rejected' ? [r.reason as { code?: string }] : [],
      );
      throw (
        errors.find((e) => e.code !== 'ENODATA') ??
        errors[0] ??
        Object.assign(new Error('no answer'), { code: 'ENODATA' })
      );
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  };
}
