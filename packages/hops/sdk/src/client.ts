/**
 * The SplitRelay client as a library: `connect(target)` gives a Duplex to the target through
 * ingress and egress, `openUdp(target)` a datagram flow; `createDispatcher(client.connect)` (from `@splitrelay/sdk/dispatcher`)
 * lets `fetch(url, { dispatcher })` do the same. One inner
 * session per egress carries every flow; it is opened on first use and reopened when it dies.
 */
import type { Duplex } from 'node:stream';
import type { Entry } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import {
  openInnerSession,
  type DatagramStream,
  type InnerSession,
} from '@splitrelay/inner-session';
import { openOuterTunnel, type IngressAddress } from '@splitrelay/outer-hop';
import { chooseEgress, type EgressPreference } from './egress-choice.ts';
import type { SessionAuthenticator } from './token-wallet.ts';

export interface SplitRelayClientOptions {
  readonly ingress: IngressAddress;
  /** Verified directory entries (see @splitrelay/directory `verifyDirectory`). */
  readonly directory: () => ReadonlyMap<string, Entry>;
  readonly preference?: EgressPreference;
  /** Egress health as the ingress reports it; 'down' and 'draining' egresses are avoided. */
  readonly health?: () => ReadonlyMap<string, string>;
  /** Source address for the connection to the ingress. */
  readonly localAddress?: string;
  /** How the outer hop is carried: HTTP/1.1 CONNECT (default) or WebSocket. */
  readonly carrier?: 'connect' | 'websocket';
  /** Privacy Pass tokens for the ingress (a TokenWallet); absent, sessions carry none. */
  readonly authenticator?: SessionAuthenticator;
  readonly handshakeTimeoutMs?: number;
  readonly flowTimeoutMs?: number;
  readonly now?: () => number;
}

export interface Target {
  readonly host: string;
  readonly port: number;
}

export interface SplitRelayClient {
  connect(target: Target, signal?: AbortSignal): Promise<Duplex>;
  /** A UDP flow to the target (CONNECT-UDP): `send(payload)`, 'datagram' events, `close()`. */
  openUdp(target: Target, signal?: AbortSignal): Promise<DatagramStream>;
  /** Inner sessions currently open, by egress id. */
  sessions(): string[];
  close(): void;
}

export function createSplitRelayClient(options: SplitRelayClientOptions): SplitRelayClient {
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const flowTimeoutMs = options.flowTimeoutMs ?? 15_000;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const sessions = new Map<string, Promise<InnerSession>>();
  let closed = false;

  function sessionFor(egress: Entry, signal?: AbortSignal): Promise<InnerSession> {
    const existing = sessions.get(egress.id);
    if (existing) return existing;
    const opening = (async () => {
      const carrier = await openAuthenticatedTunnel(egress.id, signal);
      const session = await openInnerSession(
        carrier,
        { egressId: egress.id, pins: egress.tlsPins, handshakeTimeoutMs, flowTimeoutMs },
        signal,
      );
      void session.closed.then(() => {
        if (sessions.get(egress.id) === opening) sessions.delete(egress.id);
      });
      return session;
    })();
    sessions.set(egress.id, opening);
    opening.catch(() => {
      if (sessions.get(egress.id) === opening) sessions.delete(egress.id);
    });
    return opening;
  }

  /**
   * The outer tunnel for one new session, spending one token. Without a known challenge the
   * first attempt goes bare; the ingress's 407 then names the challenge, and the attempt is
   * made once more with a token for it (RFC 9577's challenge-response, once per client run).
   */
  async function openAuthenticatedTunnel(egressId: string, signal?: AbortSignal): Promise<Duplex> {
    const auth = options.authenticator;
    for (let attempt = 0; ; attempt++) {
      const authorization = await auth?.authorization();
      try {
        return await openOuterTunnel(
          {
            ingress: options.ingress,
            egressId,
            handshakeTimeoutMs,
            ...(authorization ? { headers: { 'proxy-authorization': authorization } } : {}),
            ...(options.carrier ? { carrier: options.carrier } : {}),
            ...(options.localAddress ? { localAddress: options.localAddress } : {}),
          },
          signal,
        );
      } catch (err) {
        const challenge = err instanceof RelayError ? err.headers['proxy-authenticate'] : undefined;
        if (auth === undefined || challenge === undefined || attempt >= 1) throw err;
        auth.challenged(challenge);
      }
    }
  }

  /**
   * Runs `open` on an inner session, with one retry on a fresh session (or another egress)
   * when the first one turns out to be dead: that covers a session that died while idle.
   */
  async function onSession<T>(
    open: (session: InnerSession) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (closed) throw new RelayError('internal', 'client is closed');
    const failed = new Set<string>();
    for (const [id, status] of options.health?.() ?? []) {
      if (status === 'down' || status === 'draining') failed.add(id);
    }
    // Bounded: a dead cached session is replaced once, and an egress that cannot be
    // reached is swapped for another (the ingress says which failures are worth it).
    for (let attempt = 0; attempt < 3; attempt++) {
      const egress = chooseEgress(options.directory(), options.preference ?? {}, now(), failed);
      let session: InnerSession;
      try {
        session = await sessionFor(egress, signal);
      } catch (err) {
        failed.add(egress.id);
        if (attempt >= 2 || !(err instanceof RelayError) || !err.retryable) throw err;
        // The ingress itself said "not now" (Retry-After): another egress would not help.
        if (err.code === 'rate-limited' || err.code === 'auth-unavailable') throw err;
        continue;
      }
      try {
        return await open(session);
      } catch (err) {
        if (session.alive || attempt >= 2) throw err;
        sessions.delete(egress.id);
      }
    }
    throw new RelayError('egress-unavailable', 'no egress could be reached');
  }

  const connect = (target: Target, signal?: AbortSignal): Promise<Duplex> =>
    onSession((session) => session.openFlow(target, signal), signal);
  const openUdp = (target: Target, signal?: AbortSignal): Promise<DatagramStream> =>
    onSession((session) => session.openUdp(target, signal), signal);

  return {
    connect,
    openUdp,
    sessions: () => [...sessions.keys()],
    close(): void {
      closed = true;
      for (const opening of sessions.values())
        opening.then(
          (s) => s.close(),
          () => {},
        );
      sessions.clear();
    },
  };
}
