/**
 * Loaded into the client with `node --import`: counts every name lookup the process makes
 * through node:dns (getaddrinfo, c-ares queries, and net/tls connects by name, which go
 * through dns.lookup) and writes the names to $SPLITRELAY_DNS_OBSERVER on exit. The client
 * must never resolve a target: the egress does. Test-only.
 */
import dns from 'node:dns';
import { isIP } from 'node:net';
import { writeFileSync } from 'node:fs';

const file = process.env.SPLITRELAY_DNS_OBSERVER;
const names: string[] = [];

if (file) {
  const wrap = <T extends object>(target: T, key: keyof T & string): void => {
    const original = target[key];
    if (typeof original !== 'function') return;
    (target as Record<string, unknown>)[key] = function (
      this: unknown,
      host: unknown,
      ...rest: unknown[]
    ) {
      // An IP literal is answered inside Node without a query (net.listen passes its own
      // address through dns.lookup); anything else would be a real lookup.
      if (isIP(String(host)) === 0) names.push(`${key}:${String(host)}`);
      return (original as (...args: unknown[]) => unknown).call(this, host, ...rest);
    };
  };
  for (const key of [
    'lookup',
    'lookupService',
    'resolve',
    'resolve4',
    'resolve6',
    'resolveAny',
    'resolveCname',
    'resolveTxt',
    'resolveSrv',
  ] as const) {
    wrap(dns, key);
    wrap(dns.promises, key);
    wrap(dns.Resolver.prototype, key as keyof dns.Resolver & string);
    wrap(dns.promises.Resolver.prototype, key as keyof dns.promises.Resolver & string);
  }
  process.on('exit', () => writeFileSync(file, JSON.stringify(names)));
}
