/**
 * Negative control: an ingress that hands the client's Privacy Pass token on to the egress
 * (as if the egress were to check it too), in a header of every trunk stream. The token is the
 * one of the last client CONNECT the ingress parsed.
 */
import { addToHttp2Requests, watchEvents } from './hooks.ts';

let token: string | undefined;
watchEvents((_emitter, event, args) => {
  if (event !== 'connect' && event !== 'stream') return;
  const head = (event === 'stream' ? args[1] : (args[0] as { headers?: unknown })?.headers) as
    Record<string, unknown> | undefined;
  const value = head?.['proxy-authorization'];
  if (typeof value === 'string') token = value;
});
addToHttp2Requests((): Record<string, string> =>
  token === undefined ? {} : { 'x-client-authorization': token },
);
