/**
 * The SplitRelay client as a library: `connect(target)` gives a Duplex to the target through
 * ingress and egress, `openUdp(target)` a datagram flow; `createDispatcher(client.connect)` (from `@splitrelay/sdk/dispatcher`)
 * lets `fetch(url, { dispatcher })` do the same. One inner
 * session per egress carries every flow; it is opened on first use and reopened when it dies.
 */
import type { Duplex } from 'node:stream';
import { keyIdOf, type Entry, type TrustedKeys } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import {
  openInnerSession,
  type DatagramStream,
  type InnerSession,
} from '@splitrelay/inner-session';
import { openOuterTunnel, type IngressAddress } from '@splitrelay/outer-hop';
import {
  clientGeoHint,
  type DeviceLocation,
  type LocationChoice,
} from '@splitrelay/egress-addresses';
import { chooseEgress, type EgressPreference } from './egress-choice.ts';
import { EgressDirectory } from './egress-directory.ts';
import { TokenWallet, type SessionAuthenticator, type TokenWalletOptions } from './token-wallet.ts';
import type { OhttpClient, OhttpClientOptions, OhttpFetchInit } from './ohttp-fetch.ts';

/**
 * The directory the client verifies itself: the egress operators' public keys (PEM by key
 * id), and where the signed entries come from (the ingress's well-known directory unless a
 * file is named). Refreshed every `refreshMs`; a failed refresh keeps the last verified state.
 */
export interface DirectoryOptions {
  /** PEM public keys (their key ids are derived), or PEMs / KeyObjects by key id. */
  readonly operatorKeys: readonly string[] | TrustedKeys;
  readonly file?: string;
  readonly refreshMs?: number;
  /** Told about refused entries and failed refreshes. */
  readonly onProblem?: (problem: { refused?: number; reason?: string }) => void;
}

export interface SplitRelayClientOptions {
  readonly ingress: IngressAddress;
  /**
   * The verified egress directory: options to fetch and verify it (the usual case), or a
   * function giving entries the caller verified itself.
   */
  readonly directory: DirectoryOptions | (() => ReadonlyMap<string, Entry>);
  readonly preference?: EgressPreference;
  /**
   * What the egress may learn of where the user is: `choice` 'general-location' (a coarse
   * geohash), 'country-only' (the country code and nothing else) or 'none', made from what
   * the device knows (`where`). It goes to the egress only, inside each inner session, so
   * the egress draws a source address of that region; the ingress never sees it. Without a
   * hint the egress uses its default region.
   */
  readonly location?: { readonly choice: LocationChoice; readonly where: DeviceLocation };
  /**
   * Egress health as the ingress reports it; 'down' and 'draining' egresses are avoided.
   * Fetched with the directory when the client fetches it.
   */
  readonly health?: () => ReadonlyMap<string, string>;
  /** Source address for the connection to the ingress. */
  readonly localAddress?: string;
  /** How the outer hop is carried: HTTP/1.1 CONNECT (default) or WebSocket. */
  readonly carrier?: 'connect' | 'websocket';
  /** Privacy Pass tokens from the access network's issuer, for an ingress that asks for them. */
  readonly tokens?: TokenWalletOptions;
  /** Or any other authenticator of sessions (overrides `tokens`); absent, sessions carry none. */
  readonly authenticator?: SessionAuthenticator;
  readonly handshakeTimeoutMs?: number;
  readonly flowTimeoutMs?: number;
  /** Oblivious HTTP (`ohttpFetch`): the ingress's relay prefix, a KEM to prefer, a timeout. */
  readonly ohttp?: Pick<OhttpClientOptions, 'relayPrefix' | 'preferKemId' | 'timeoutMs'>;
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
  /** Resolves once the directory's first fetch was tried (at once for a caller's directory). */
  readonly ready: Promise<void>;
  /** The verified egresses the client can use now, by id. */
  egresses(): ReadonlyMap<string, Entry>;
  /**
   * The Fetch API through Oblivious HTTP: the ingress relays, the egress's gateway performs
   * the request, with a key from the verified directory (`@splitrelay/sdk/ohttp`).
   */
  ohttpFetch(input: string | URL | Request, init?: OhttpFetchInit): Promise<Response>;
  /** One DNS query through the gateway's DoH resolver (send ID 0); the answer's bytes. */
  ohttpDns(
    query: Uint8Array,
    options?: { authority?: string; signal?: AbortSignal },
  ): Promise<Uint8Array>;
  close(): void;
}

export function createSplitRelayClient(options: SplitRelayClientOptions): SplitRelayClient {
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const flowTimeoutMs = options.flowTimeoutMs ?? 15_000;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const sessions = new Map<string, Promise<InnerSession>>();
  let closed = false;
  // Made once: every inner session carries the same hint, on every one of its requests.
  const hint = options.location
    ? clientGeoHint(options.location.choice, options.location.where)
    : undefined;
  const sessionHeaders = hint ? { [hint.name]: hint.value } : undefined;
  const preference: EgressPreference = {
    ...options.preference,
    // The country ranks egresses only when the user agreed to share at least that much.
    ...(options.location &&
    options.location.choice.mode !== 'none' &&
    options.location.where.country
      ? { country: options.location.where.country }
      : {}),
  };
  const owned = typeof options.directory === 'function' ? undefined : options.directory;
  const egressDirectory = owned
    ? new EgressDirectory({
        operatorKeys: Array.isArray(owned.operatorKeys)
          ? Object.fromEntries(owned.operatorKeys.map((pem: string) => [keyIdOf(pem), pem]))
          : (owned.operatorKeys as TrustedKeys),
        source: owned.file
          ? { file: owned.file }
          : { ingress: options.ingress, localAddress: options.localAddress },
        ...(owned.refreshMs !== undefined ? { refreshMs: owned.refreshMs } : {}),
        ...(owned.onProblem ? { onProblem: owned.onProblem } : {}),
      })
    : undefined;
  const entries =
    typeof options.directory === 'function'
      ? options.directory
      : () => (egressDirectory as EgressDirectory).entries();
  const health = options.health ?? (egressDirectory ? () => egressDirectory.health() : undefined);
  const ready = egressDirectory ? egressDirectory.start() : Promise.resolve();
  const wallet =
    options.authenticator === undefined && options.tokens
      ? new TokenWallet(options.tokens)
      : undefined;
  // The issuer's directory comes while the first session meets its 407, not after it.
  wallet?.prefetch();
  const authenticator = options.authenticator ?? wallet;

  function sessionFor(egress: Entry, signal?: AbortSignal): Promise<InnerSession> {
    const existing = sessions.get(egress.id);
    if (existing) return existing;
    const opening = (async () => {
      const carrier = await openAuthenticatedTunnel(egress.id, signal);
      const session = await openInnerSession(
        carrier,
        {
          egressId: egress.id,
          pins: egress.tlsPins,
          handshakeTimeoutMs,
          flowTimeoutMs,
          ...(sessionHeaders ? { sessionHeaders } : {}),
        },
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
    const auth = authenticator;
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
    await ready;
    const failed = new Set<string>();
    const reported = health?.() ?? new Map<string, string>();
    // Bounded: a dead cached session is replaced once, an egress that cannot be reached is
    // swapped for another (the ingress says which failures are worth it), and a pin that no
    // longer matches sends the client back to the directory once.
    let refreshedForPin = false;
    for (let attempt = 0; attempt < 3; attempt++) {
      const egress = chooseEgress(entries(), preference, now(), failed, reported);
      let session: InnerSession;
      try {
        session = await sessionFor(egress, signal);
      } catch (err) {
        // A key rotated since this client's last refresh: the ingress already serves the entry
        // that pins the new key (operators pin both keys before switching), so look once more.
        if (
          egressDirectory &&
          !refreshedForPin &&
          err instanceof RelayError &&
          err.code === 'pin-mismatch'
        ) {
          refreshedForPin = true;
          await egressDirectory.refresh().catch(() => 0);
          continue;
        }
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

  // Loaded on first use: a client that never uses OHTTP never loads HPKE or Binary HTTP.
  let ohttpClient: Promise<OhttpClient> | undefined;
  const ohttp = async (): Promise<OhttpClient> => {
    if (closed) throw new RelayError('internal', 'client is closed');
    ohttpClient ??= import('./ohttp-fetch.ts').then(({ createOhttpClient }) =>
      createOhttpClient({
        ingress: options.ingress,
        entries,
        ...(egressDirectory ? { refresh: () => egressDirectory.refresh() } : {}),
        ...(options.preference ? { preference: options.preference } : {}),
        ...(authenticator ? { authenticator } : {}),
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        ...options.ohttp,
      }),
    );
    await ready;
    return ohttpClient;
  };
  const ohttpFetch = async (input: string | URL | Request, init?: OhttpFetchInit) =>
    (await ohttp()).fetch(input, init);
  const ohttpDns = async (
    query: Uint8Array,
    dnsOptions?: { authority?: string; signal?: AbortSignal },
  ) => (await ohttp()).dns(query, dnsOptions);

  return {
    connect,
    openUdp,
    ohttpFetch,
    ohttpDns,
    sessions: () => [...sessions.keys()],
    ready,
    egresses: () => entries(),
    close(): void {
      closed = true;
      void ohttpClient?.then((c) => c.close());
      egressDirectory?.stop();
      wallet?.close();
      for (const opening of sessions.values())
        opening.then(
          (s) => s.close(),
          () => {},
        );
      sessions.clear();
    },
  };
}
