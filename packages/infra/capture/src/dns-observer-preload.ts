/**
 * Loaded into a process with `node --import` (see DNS_OBSERVER_PRELOAD): records every name
 * lookup the process makes through node:dns (getaddrinfo, c-ares queries, and net/tls
 * connects by name, which go through dns.lookup) and writes the names to
 * $SPLITRELAY_DNS_OBSERVER on exit, as a JSON array of `<function>:<name>`. What a process
 * asks its resolver, the resolver (the access network's, for a client) learns: the client
 * must never resolve a target, the egress does. Test and audit only.
 */
import dns from 'node:dns';
import { isIP } from 'node:net';
import { writeFileSync } from 'node:fs';
import { DNS_OBSERVER_ENV } from './env.ts';

const file = process.env[DNS_OBSERVER_ENV];
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
