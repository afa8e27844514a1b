/**
 * Negative control: a client build that resolves every target name itself before handing the
 * flow to the relays (a "warm the cache" optimisation), so the client network's resolver
 * sees where the client goes.
 */
import dns from 'node:dns';
import { isIP } from 'node:net';
import { watchClientTargets } from './hooks.ts';

watchClientTargets((authority) => {
  const host = authority.slice(0, authority.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  if (isIP(host) === 0) dns.lookup(host, () => {});
});
