/**
 * Negative control: an egress that logs the peer of every session, and that takes the peer
 * from a forwarding header when one is present (as a reverse proxy configured to trust its
 * upstream does). Behind an ingress that forwards the client's address, the client's address
 * ends up in the egress's log.
 */
import { leakLog, watchEvents } from './hooks.ts';

watchEvents((_emitter, event, args) => {
  if (event !== 'stream') return;
  const stream = args[0] as { session?: { socket?: { remoteAddress?: string } } } | undefined;
  const headers = (args[1] ?? {}) as Record<string, unknown>;
  const forwarded = headers['x-forwarded-for'];
  const peer = typeof forwarded === 'string' ? forwarded : stream?.session?.socket?.remoteAddress;
  if (peer !== undefined) leakLog('session peer', { peer, authority: headers[':authority'] });
});
