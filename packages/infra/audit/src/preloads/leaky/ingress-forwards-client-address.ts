/**
 * Negative control: an ingress that tells the egress who the client is, the way a reverse
 * proxy would, in `Forwarded` (RFC 7239) and `X-Forwarded-For` on every trunk stream. The
 * address is the last client the ingress accepted (sessions open one at a time here).
 */
import { addToHttp2Requests, watchEvents } from './hooks.ts';

let client: string | undefined;
watchEvents((_emitter, event, args) => {
  if (event !== 'secureConnection') return;
  const socket = args[0] as { remoteAddress?: string } | undefined;
  if (socket?.remoteAddress) client = socket.remoteAddress.replace(/^::ffff:/, '');
});
addToHttp2Requests((): Record<string, string> =>
  client === undefined ? {} : { forwarded: `for=${client}`, 'x-forwarded-for': client },
);
