/**
 * The one thing the ingress reads from a client's request: which egress it asks for, by its
 * directory id, either as a CONNECT authority (`CONNECT egress-1:443`) or as the last segment
 * of the WebSocket carrier's path (`GET /.well-known/splitrelay/ws/egress-1`). Both carriers
 * accept exactly the ids `@splitrelay/authority` calls relay ids, so neither reaches an
 * egress the other could not.
 */
import { isRelayId, parseAuthority } from '@splitrelay/authority';
import { RelayError } from '@splitrelay/errors';

export const WEBSOCKET_PATH_PREFIX = '/.well-known/splitrelay/ws/';

/**
 * The egress id of a CONNECT authority: a relay id on port 443, in any spelling the authority
 * parser reads as that name (upper case and a trailing dot name the same host). Throws
 * `malformed-request` for what is no authority at all, `unknown-egress` for any other host.
 */
export function egressIdFromAuthority(authority: string): string {
  const parsed = parseAuthority(authority);
  if (parsed.kind !== 'dns' || parsed.port !== 443 || !isRelayId(parsed.host)) {
    throw new RelayError(
      'unknown-egress',
      'tunnels go to an egress by its directory name, port 443',
    );
  }
  return parsed.host;
}

/** The egress id of a WebSocket carrier path; a path is spelled exactly (no case folding). */
export function egressIdFromWebSocketPath(path: string): string | undefined {
  if (!path.startsWith(WEBSOCKET_PATH_PREFIX)) return undefined;
  const id = path.slice(WEBSOCKET_PATH_PREFIX.length);
  return isRelayId(id) ? id : undefined;
}
