/**
 * The one builder of the apps' configs for a loopback deployment. Each role's config comes with
 * what the deployment knows already filled in (addresses, certificates and keys, the signed
 * directory and its operator key, the issuer's key and subscriber), so a new config field is
 * added here once and the demo, the end-to-end tests and the bench all get it. What differs
 * per caller (log levels, limits, the control plane's servers) comes in as overrides. Every
 * config built here parses with its app's schema (test/configs.test.ts).
 */

/** An app config as written to its JSON file. */
export type RoleConfig = Record<string, unknown>;

/**
 * Merged into a built config: objects key by key (at any depth), anything else, arrays
 * included, replaces what was there, and `undefined` removes the key.
 */
export type ConfigOverrides = Record<string, unknown>;

/** What the deployment holds, as the configs name it. */
export interface ConfigFacts {
  readonly ingress: {
    readonly host: string;
    readonly port: number;
    readonly name: string;
    /** Its name towards the egresses: their `knownIngresses`, its control plane id. */
    readonly id: string;
    readonly cert: string;
    readonly key: string;
    readonly trunkCert: string;
    readonly trunkKey: string;
  };
  readonly egresses: Readonly<
    Record<
      string,
      {
        readonly host: string;
        readonly port: number;
        readonly cert: string;
        readonly key: string;
        /** Its Oblivious HTTP gateway's key ring, whose published keys its entry lists. */
        readonly ohttpKeyRing?: string;
      }
    >
  >;
  readonly target: {
    readonly name: string;
    readonly hosts: readonly string[];
    readonly cidrs: readonly string[];
  };
  readonly clientHost: string | undefined;
  /** Oblivious HTTP on: the egresses are gateways, the ingress relays to them. */
  readonly ohttp: boolean;
  readonly caCert: string;
  readonly operatorPublicKey: string;
  readonly directoryFile: string;
  readonly issuer:
    | {
        readonly host: string;
        readonly port: number;
        readonly name: string;
        readonly cert: string;
        readonly key: string;
        readonly privateKey: string;
        readonly tokenKey: string;
        readonly credentialFile: string;
        readonly subscribersFile: string;
        readonly keyWindow: { readonly notBefore: number; readonly notAfter: number };
      }
    | undefined;
}

/** Where a client finds what started with port 0: the ingress, and the issuer if any. */
export interface ClientPeers {
  readonly ingressPort: number;
  /** The issuer's origin (`https://host:port`); without it the client fetches no tokens. */
  readonly issuerUrl?: string;
}

export interface RoleConfigs {
  /**
   * An egress of the deployment: its id, listener and certificate, the ingress's trunk
   * certificate, the targets' addresses (allowed, and the target name resolving to them), and
   * with Oblivious HTTP its gateway's key ring and the local CA for https targets. With a
   * `controlPlane` override, its `entryFile` is the deployment's directory.
   */
  egress(id: string, overrides?: ConfigOverrides): RoleConfig;
  /**
   * The ingress: listener, TLS and trunk identities, the directory file and its operator key,
   * (with an issuer) Privacy Pass with the issuer's token key, and (with Oblivious HTTP) the
   * relay. With a `controlPlane` override, its `ingressId` is the deployment's ingress id.
   */
  ingress(overrides?: ConfigOverrides): RoleConfig;
  /** The Privacy Pass issuer: listener, TLS, name, token key and the subscribers file. */
  issuer(overrides?: ConfigOverrides): RoleConfig;
  /**
   * A client of the ingress: its address, name and CA, the client's source address, the
   * directory file and its operator key, and (given `issuerUrl`) tokens as the subscriber.
   */
  client(peers: ClientPeers, overrides?: ConfigOverrides): RoleConfig;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `overrides` merged into a copy of `base` (see `ConfigOverrides`). */
export function mergeConfig(base: RoleConfig, overrides: ConfigOverrides = {}): RoleConfig {
  const out: RoleConfig = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete out[key];
    else if (isPlainObject(value) && isPlainObject(out[key]))
      out[key] = mergeConfig(out[key] as RoleConfig, value);
    else out[key] = value;
  }
  return out;
}

/**
 * A control plane block only exists when the caller asks for one (it names the servers); the
 * deployment then adds what it knows to it, before the caller's keys.
 */
function withControlPlane(
  base: RoleConfig,
  overrides: ConfigOverrides,
  known: RoleConfig,
): RoleConfig {
  const controlPlane = overrides.controlPlane;
  if (!isPlainObject(controlPlane)) return mergeConfig(base, overrides);
  return mergeConfig({ ...base, controlPlane: known }, overrides);
}

export function roleConfigs(facts: ConfigFacts): RoleConfigs {
  const operatorKeys = [{ publicKey: facts.operatorPublicKey }];
  return {
    egress(id, overrides = {}) {
      const egress = facts.egresses[id];
      if (!egress) throw new Error(`the deployment has no egress ${id}`);
      const base: RoleConfig = {
        egressId: id,
        listen: `${egress.host}:${egress.port}`,
        tls: { cert: egress.cert, key: egress.key },
        knownIngresses: [{ name: facts.ingress.id, cert: facts.ingress.trunkCert }],
        policy: { allowCidrs: [...facts.target.cidrs] },
        dns: { hosts: { [facts.target.name]: [...facts.target.hosts] } },
        localAddress: egress.host,
        // The gateway reaches the same targets under the same allowlist as tunnels.
        ...(egress.ohttpKeyRing
          ? { ohttp: { keyRing: egress.ohttpKeyRing, ca: facts.caCert } }
          : {}),
      };
      return withControlPlane(base, overrides, { entryFile: facts.directoryFile });
    },

    ingress(overrides = {}) {
      const { ingress, issuer } = facts;
      const base: RoleConfig = {
        listen: `${ingress.host}:${ingress.port}`,
        tls: { cert: ingress.cert, key: ingress.key },
        trunk: { cert: ingress.trunkCert, key: ingress.trunkKey, localAddress: ingress.host },
        directory: { file: facts.directoryFile, operatorKeys },
        ...(issuer
          ? {
              admission: {
                privacyPass: {
                  issuerName: issuer.name,
                  origin: ingress.name,
                  keys: [{ tokenKey: issuer.tokenKey, ...issuer.keyWindow }],
                },
              },
            }
          : {}),
        // To each egress whose entry lists keys: here, every egress of the deployment.
        ...(facts.ohttp ? { ohttp: {} } : {}),
      };
      return withControlPlane(base, overrides, { ingressId: ingress.id });
    },

    issuer(overrides = {}) {
      const { issuer } = facts;
      if (!issuer) throw new Error('the deployment has no issuer');
      return mergeConfig(
        {
          listen: `${issuer.host}:${issuer.port}`,
          tls: { cert: issuer.cert, key: issuer.key },
          issuerName: issuer.name,
          keys: [{ privateKey: issuer.privateKey, ...issuer.keyWindow }],
          attester: { type: 'file', file: issuer.subscribersFile },
        },
        overrides,
      );
    },

    client(peers, overrides = {}) {
      const { ingress, issuer } = facts;
      return mergeConfig(
        {
          ingress: {
            address: `${ingress.host}:${peers.ingressPort}`,
            servername: ingress.name,
            ca: facts.caCert,
          },
          ...(facts.clientHost ? { localAddress: facts.clientHost } : {}),
          directory: { file: facts.directoryFile, operatorKeys },
          ...(issuer && peers.issuerUrl
            ? {
                tokens: {
                  issuer: peers.issuerUrl,
                  ca: facts.caCert,
                  servername: issuer.name,
                  credentialFile: issuer.credentialFile,
                },
              }
            : {}),
        },
        overrides,
      );
    },
  };
}
