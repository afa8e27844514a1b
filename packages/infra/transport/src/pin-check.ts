/**
 * Peer authentication by key pin: the signed directory names each egress's SPKI SHA-256
 * pins, so no CA is trusted for an egress at all. Callers run this on 'secureConnect',
 * before a byte is written.
 */
import type { TLSSocket } from 'node:tls';
import { RelayError } from '@splitrelay/errors';
import { spkiPin } from '@splitrelay/directory';

export function assertPinned(socket: TLSSocket, pins: readonly string[], what: string): void {
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined || !pins.includes(spkiPin(cert))) {
    throw new RelayError('pin-mismatch', `${what} presented a key that is not pinned`);
  }
}
