/**
 * The fields each role may log. Privacy is a property of these types: the ingress has no
 * field that can hold a target, the egress none that can hold a client address. The same
 * lists are enforced at run time (unknown keys are dropped and counted), so a cast or a
 * spread cannot smuggle a field past the compiler.
 */

/** Fields every role may write: none of them can carry an address or a name. */
export interface CommonFields {
  /** Listening address of this process (its own, never a peer's). */
  listen?: string;
  /** RelayError code of a refusal. */
  code?: string;
  status?: number;
  /** Aggregate counters, written periodically, never per flow. */
  sessions?: number;
  flows?: number;
  refusals?: number;
  bytesUp?: number;
  bytesDown?: number;
  durationMs?: number;
  version?: string;
  pid?: number;
  reason?: string;
  udpFlows?: number;
  datagramsUp?: number;
  datagramsDown?: number;
  datagramsDropped?: number;
  /** A count that is not per flow (directory entries, known peers). */
  count?: number;
  /** The Retry-After a refusal carried (seconds), where it cannot be passed on. */
  retryAfterSeconds?: number;
}

/** The ingress sees the client and which egress it asked for; never a target. */
export interface IngressFields extends CommonFields {
  egressId?: string;
  /** The client's address: the ingress is the side allowed to know it. */
  clientAddr?: string;
  alpn?: string;
  /** Aggregate Privacy Pass counters: tokens redeemed, refusals by reason (never a token). */
  tokensRedeemed?: number;
  admissionRefusals?: Readonly<Record<string, number>>;
  /** Aggregate Oblivious HTTP relay counters (never per request). */
  ohttpRelayed?: number;
  ohttpRefused?: number;
}

/** The egress sees the ingress relay and the target; never a client address. */
export interface EgressFields extends CommonFields {
  egressId?: string;
  /** Name of the ingress relay's trunk certificate (an operator, not a client). */
  ingress?: string;
  targetHost?: string;
  targetPort?: number;
  /** Aggregate Oblivious HTTP gateway counters (never per request). */
  ohttpRequests?: number;
  ohttpRefused?: number;
  ohttpDoh?: number;
  /**
   * Source-address draws, as running totals: sessions that drew, how their geo hints matched
   * a region (or why the default region served), and per address region (a config id, one
   * line per region) the draws per family. Never an address, never per session.
   */
  drawSessions?: number;
  hintsGeohash?: number;
  hintsSubdivision?: number;
  hintsCountry?: number;
  hintsDefault?: number;
  hintsInvalid?: number;
  region?: string;
  ipv4Draws?: number;
  ipv6Draws?: number;
}

/** The client sees everything of its own; it logs locally on the user's device. */
export interface ClientFields extends CommonFields {
  egressId?: string;
  ingress?: string;
  targetHost?: string;
  targetPort?: number;
  socks?: string;
  http?: string;
  /** SOCKS UDP ASSOCIATE aggregates: associations, and datagrams dropped by where. */
  udpAssociations?: number;
  /** By the kernel, at a full association socket (read from /proc/net/udp). */
  udpDroppedByKernel?: number;
  udpDroppedForeignSource?: number;
  udpDroppedMalformed?: number;
  udpDroppedFragment?: number;
  udpDroppedQueueFull?: number;
  udpDroppedFlowLimit?: number;
  udpDroppedRefused?: number;
  /** By a flow itself: its queue towards the egress full, or too large. */
  udpDroppedInFlow?: number;
  udpSendErrors?: number;
  /** The receive buffer the kernel gave the last association socket, bytes. */
  udpRecvBufferBytes?: number;
  /** Loopback addresses of the Oblivious HTTP endpoint and the DNS forwarder. */
  ohttp?: string;
  dns?: string;
}

/**
 * The Privacy Pass issuer sees who a subscriber is when it issues, and must never help link
 * a token to its later spending: no field holds request or response bytes, a token, a key id
 * of a single request or a client address. Aggregates only, and the subscriber at most on a
 * refusal.
 */
export interface IssuerFields extends CommonFields {
  issuerId?: string;
  /** The attested subscriber, only on a refusal (rate limit, bad credential). */
  subscriber?: string;
  /** Tokens issued since the last stats line (a count, never which or to whom). */
  issued?: number;
  /** Token keys currently served. */
  keys?: number;
}

type KeysOf<T> = { readonly [K in keyof Required<T>]: true };

const common: KeysOf<CommonFields> = {
  listen: true,
  code: true,
  status: true,
  sessions: true,
  flows: true,
  refusals: true,
  bytesUp: true,
  bytesDown: true,
  durationMs: true,
  version: true,
  pid: true,
  reason: true,
  count: true,
  udpFlows: true,
  datagramsUp: true,
  datagramsDown: true,
  datagramsDropped: true,
  retryAfterSeconds: true,
};

export const allowedFields = {
  ingress: {
    ...common,
    egressId: true,
    clientAddr: true,
    alpn: true,
    tokensRedeemed: true,
    admissionRefusals: true,
    ohttpRelayed: true,
    ohttpRefused: true,
  } satisfies KeysOf<IngressFields>,
  egress: {
    ...common,
    egressId: true,
    ingress: true,
    targetHost: true,
    targetPort: true,
    ohttpRequests: true,
    ohttpRefused: true,
    ohttpDoh: true,
    drawSessions: true,
    hintsGeohash: true,
    hintsSubdivision: true,
    hintsCountry: true,
    hintsDefault: true,
    hintsInvalid: true,
    region: true,
    ipv4Draws: true,
    ipv6Draws: true,
  } satisfies KeysOf<EgressFields>,
  client: {
    ...common,
    egressId: true,
    ingress: true,
    targetHost: true,
    targetPort: true,
    socks: true,
    http: true,
    udpAssociations: true,
    udpDroppedByKernel: true,
    udpDroppedForeignSource: true,
    udpDroppedMalformed: true,
    udpDroppedFragment: true,
    udpDroppedQueueFull: true,
    udpDroppedFlowLimit: true,
    udpDroppedRefused: true,
    udpDroppedInFlow: true,
    udpSendErrors: true,
    udpRecvBufferBytes: true,
    ohttp: true,
    dns: true,
  } satisfies KeysOf<ClientFields>,
  issuer: {
    ...common,
    issuerId: true,
    subscriber: true,
    issued: true,
    keys: true,
  } satisfies KeysOf<IssuerFields>,
} as const;

export type Role = keyof typeof allowedFields;

export interface FieldsOf {
  ingress: IngressFields;
  egress: EgressFields;
  client: ClientFields;
  issuer: IssuerFields;
}
