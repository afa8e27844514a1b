/**
 * Negative control: a client build that names its target to the ingress, in a header of the
 * outer CONNECT (a "routing hint"). The target is the last one the client's proxies were asked
 * for; the SDK opens a session on first use, so the first session already carries it.
 */
import http from 'node:http';
import { watchClientTargets } from './hooks.ts';

let target: string | undefined;
watchClientTargets((authority) => (target = authority));
const request = http.request;
(http as { request: unknown }).request = function (this: unknown, ...args: unknown[]) {
  const options = args[0] as { method?: string; headers?: Record<string, string> } | undefined;
  if (
    options &&
    typeof options === 'object' &&
    options.method === 'CONNECT' &&
    target !== undefined
  )
    options.headers = { ...options.headers, 'x-target-hint': target };
  return (request as (...a: unknown[]) => unknown).apply(this, args);
};
