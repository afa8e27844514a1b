/**
 * What each operator's build must not contain. An operator installs only its own app; these
 * rules make the trust model a property of the dependency graph, checked in CI.
 */
export interface IsolationRule {
  /** The app (workspace package) an operator installs. */
  readonly app: string;
  /** Why, in the words of the trust model. */
  readonly because: string;
  readonly forbidden: readonly string[];
}

/**
 * Code that reads or decides what is inside an inner session or an Oblivious HTTP request:
 * only the egress may hold it (the ingress relays OHTTP without being able to read it).
 */
const INNER_TRAFFIC = [
  '@splitrelay/ohttp',
  '@splitrelay/hpke',
  '@splitrelay/bhttp',
  '@splitrelay/ohttp-gateway',
  '@splitrelay/inner-session',
  '@splitrelay/connect-udp',
  '@splitrelay/target-policy',
  '@splitrelay/target-dialer',
  '@splitrelay/socks5',
  '@splitrelay/local-proxy',
  '@splitrelay/sdk',
];

/**
 * Code that reads a client's own connection or redeems its tokens: never at the egress. (The
 * Privacy Pass codec itself is in the egress's build, through the control plane's schema of
 * issuer-key announcements, which it validates like every family; the egress's NATS user
 * cannot subscribe to that family, and nothing at the egress redeems.)
 */
const CLIENT_SIDE = [
  '@splitrelay/outer-hop',
  '@splitrelay/ohttp-relay',
  '@splitrelay/local-proxy',
  '@splitrelay/sdk',
  '@splitrelay/spent-tokens',
];

export const ISOLATION_RULES: readonly IsolationRule[] = [
  {
    app: '@splitrelay/ingress-app',
    because: 'the ingress carries inner sessions and must have no code that could read them',
    forbidden: INNER_TRAFFIC,
  },
  {
    app: '@splitrelay/egress-app',
    because:
      "the egress must have no code that reads a client's connection, its tokens or credential",
    forbidden: CLIENT_SIDE,
  },
  {
    app: '@splitrelay/issuer-app',
    because: 'the issuer sees subscribers; it must carry no traffic and redeem no tokens',
    forbidden: [
      ...INNER_TRAFFIC,
      '@splitrelay/outer-hop',
      '@splitrelay/trunk',
      '@splitrelay/spent-tokens',
    ],
  },
];
