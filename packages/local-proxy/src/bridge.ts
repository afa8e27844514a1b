/**
 * Joins the local client's socket and the tunnel both ways. Backpressure comes from `pipe`
 * (a full writer pauses its reader). Half-close is kept: the client's FIN becomes
 * `tunnel.end()` and the tunnel's end becomes the client's FIN, while the other direction
 * keeps flowing (so both sockets must allow half-open). An error or reset on either side
 * destroys the other, so no half-dead pair lingers.
 *
 * Same contract as @splitrelay/splice, kept local so this package needs no new dependency.
 */
import type { Duplex } from 'node:stream';

function endedCleanly(s: Duplex): boolean {
  return s.readableEnded && s.writableFinished;
}

export function bridge(client: Duplex, tunnel: Duplex): void {
  const abort = (): void => {
    if (!client.destroyed) client.destroy();
    if (!tunnel.destroyed) tunnel.destroy();
  };
  // Errors surface as 'close'; a listener keeps one from becoming an uncaught exception.
  client.on('error', abort);
  tunnel.on('error', abort);
  client.once('close', () => {
    if (!endedCleanly(client) && !tunnel.destroyed) tunnel.destroy();
  });
  tunnel.once('close', () => {
    if (!endedCleanly(tunnel) && !client.destroyed) client.destroy();
  });
  client.pipe(tunnel);
  tunnel.pipe(client);
}
