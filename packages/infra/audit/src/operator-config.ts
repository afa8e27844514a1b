/**
 * An operator's own config, fitted to the lab. The auditor checks a deployment's settings, so
 * everything the operator chose is kept (log levels, limits, timeouts, policy, proxy names)
 * except what cannot hold in the lab: addresses, certificates and keys (the lab has its own
 * PKI), the directory and the control plane (the lab's), and what the scenario needs (Privacy
 * Pass on, the canary target allowed and resolvable, health visible to the harness). Each
 * change is recorded with its reason, and the report lists them all. Pure.
 */

type App = 'ingress' | 'egress' | 'issuer';

export interface Override {
  readonly app: App;
  /** Dotted path, e.g. `policy.allowCidrs`. */
  readonly key: string;
  /** The operator's value (absent when the key was not set). */
  readonly operator?: unknown;
  readonly lab: unknown;
  readonly reason: string;
}

export interface Fitted {
  readonly config: Record<string, unknown>;
  readonly overrides: readonly Override[];
}

type Json = Record<string, unknown>;

const REASONS = {
  address: "the lab's own address for this role: the operator's addresses do not exist in the lab",
  pki: "the lab's PKI: certificates must name the lab's addresses, chain to the CA the lab's client trusts, and be pinned in the lab's directory",
  directory: "the lab's signed directory and egress operator key (the lab's egresses)",
  controlPlane: "the lab's NATS server and accounts (deploy/nats), with this run's passwords",
  heartbeat: 'short heartbeats so a stopped egress is seen down within the scenario (failover)',
  health: 'health on the role address so the harness can wait for readiness',
  privacyPass:
    "the scenario exercises Privacy Pass issuance and redemption through the lab's issuer",
  egressId:
    'the lab runs two egresses from this config (failover), with the ids its directory names',
  allowTarget:
    'the canary target lives in documentation ranges (RFC 5737, RFC 3849), which the built-in rules refuse',
  allowPort: "the canary's ports, drawn fresh each run, must be allowed",
  dns: "the canary's authoritative DNS server, the only resolver of canary names in the lab",
  issuerKeys: "the lab issuer's own token key, announced to the lab's ingress",
  attester: "the lab's one subscriber (its credential is the auditor client's)",
  knownIngresses: "the lab ingress's trunk certificate",
  pools:
    "the operator's source pools are not fitted into the lab yet (their prefixes collide with the lab's own address plan): the egress sends from its one lab address, so source rotation is not judged",
  manifest:
    "the operator's manifest is signed for the operator's own config and key, which the lab replaces",
} as const;

const isObject = (v: unknown): v is Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function clone(v: Json): Json {
  return JSON.parse(JSON.stringify(v)) as Json;
}

function get(config: Json, path: string): unknown {
  let at: unknown = config;
  for (const part of path.split('.')) {
    if (!isObject(at)) return undefined;
    at = at[part];
  }
  return at;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

class Fitter {
  readonly config: Json;
  readonly overrides: Override[] = [];
  readonly #app: App;
  constructor(app: App, operator: Json) {
    this.#app = app;
    this.config = clone(operator);
  }

  set(path: string, value: unknown, reason: string): void {
    const before = get(this.config, path);
    const parts = path.split('.');
    let at = this.config;
    for (const part of parts.slice(0, -1)) {
      if (!isObject(at[part])) at[part] = {};
      at = at[part] as Json;
    }
    const last = parts[parts.length - 1] as string;
    if (value === undefined) delete at[last];
    else at[last] = value;
    if (!same(before, value))
      this.overrides.push({
        app: this.#app,
        key: path,
        ...(before === undefined ? {} : { operator: before }),
        lab: value ?? '(removed)',
        reason,
      });
  }

  /** Adds items to a list the operator may have set, recording only what was missing. */
  add(path: string, items: readonly unknown[], reason: string): void {
    const before = get(this.config, path);
    const list = Array.isArray(before) ? [...(before as unknown[])] : [];
    const missing = items.filter((i) => !list.some((x) => same(x, i)));
    if (missing.length === 0) return;
    this.set(path, [...list, ...missing], reason);
  }

  done(): Fitted {
    return { config: this.config, overrides: this.overrides };
  }
}

interface ControlPlaneFacts {
  readonly servers: readonly string[];
  readonly user: string;
  readonly password: string;
  readonly heartbeatMs: number;
}

export interface IngressFacts {
  readonly listen: string;
  readonly tls: { readonly cert: string; readonly key: string };
  readonly trunk: { readonly cert: string; readonly key: string; readonly localAddress: string };
  readonly operatorPublicKey: string;
  readonly controlPlane: ControlPlaneFacts & { readonly ingressId: string };
  readonly health: string;
  readonly privacyPass: { readonly issuerName: string; readonly origin: string };
}

export function fitIngressConfig(operator: Json, lab: IngressFacts): Fitted {
  const f = new Fitter('ingress', operator);
  f.set('listen', lab.listen, REASONS.address);
  f.set('tls', { cert: lab.tls.cert, key: lab.tls.key }, REASONS.pki);
  f.set('trunk.cert', lab.trunk.cert, REASONS.pki);
  f.set('trunk.key', lab.trunk.key, REASONS.pki);
  f.set('trunk.localAddress', lab.trunk.localAddress, REASONS.address);
  f.set('directory.file', undefined, REASONS.directory);
  f.set('directory.operatorKeys', [{ publicKey: lab.operatorPublicKey }], REASONS.directory);
  const cp = get(operator, 'controlPlane');
  f.set(
    'controlPlane',
    {
      ...(isObject(cp) ? cp : {}),
      servers: [...lab.controlPlane.servers],
      user: lab.controlPlane.user,
      password: lab.controlPlane.password,
      ingressId: lab.controlPlane.ingressId,
      heartbeatMs: lab.controlPlane.heartbeatMs,
      // A signed announcement names the operator's trunk certificate, not the lab's.
      trunkCertAnnouncement: undefined,
    },
    REASONS.controlPlane,
  );
  f.set('health', { listen: lab.health }, REASONS.health);
  const pp = get(operator, 'admission.privacyPass');
  f.set(
    'admission.privacyPass',
    {
      ...(isObject(pp) ? pp : {}),
      issuerName: lab.privacyPass.issuerName,
      origin: lab.privacyPass.origin,
      // The lab issuer announces its key over NATS.
      keys: [],
    },
    REASONS.privacyPass,
  );
  return strip(f.done());
}

export interface EgressFacts {
  readonly egressId: string;
  readonly listen: string;
  readonly tls: { readonly cert: string; readonly key: string };
  readonly ingressTrunkCert: string;
  readonly localAddress: string;
  readonly controlPlane: ControlPlaneFacts & {
    readonly entryFile: string;
    readonly announceMs: number;
  };
  readonly health: string;
  readonly allowCidrs: readonly string[];
  readonly canaryPorts: readonly number[];
  readonly dnsServer: string;
}

export function fitEgressConfig(operator: Json, lab: EgressFacts): Fitted {
  const f = new Fitter('egress', operator);
  f.set('egressId', lab.egressId, REASONS.egressId);
  f.set('listen', lab.listen, REASONS.address);
  f.set('tls', { cert: lab.tls.cert, key: lab.tls.key }, REASONS.pki);
  f.set(
    'knownIngresses',
    [{ name: 'lab-ingress', cert: lab.ingressTrunkCert }],
    REASONS.knownIngresses,
  );
  if (get(operator, 'addresses') !== undefined) f.set('addresses', undefined, REASONS.pools);
  if (get(operator, 'manifest') !== undefined) f.set('manifest', undefined, REASONS.manifest);
  f.set('localAddress', lab.localAddress, REASONS.address);
  const cp = get(operator, 'controlPlane');
  f.set(
    'controlPlane',
    {
      ...(isObject(cp) ? cp : {}),
      servers: [...lab.controlPlane.servers],
      user: lab.controlPlane.user,
      password: lab.controlPlane.password,
      heartbeatMs: lab.controlPlane.heartbeatMs,
      entryFile: lab.controlPlane.entryFile,
      announceMs: lab.controlPlane.announceMs,
      // Announced trunk certificates would be the operator's; the lab's is known directly.
      ingressOperatorKeys: undefined,
    },
    REASONS.controlPlane,
  );
  f.set('health', { listen: lab.health }, REASONS.health);
  f.add('policy.allowCidrs', lab.allowCidrs, REASONS.allowTarget);
  if (Array.isArray(get(operator, 'policy.allowPorts')))
    f.add('policy.allowPorts', lab.canaryPorts, REASONS.allowPort);
  f.set('dns.servers', [lab.dnsServer], REASONS.dns);
  return strip(f.done());
}

export interface IssuerFacts {
  readonly listen: string;
  readonly tls: { readonly cert: string; readonly key: string };
  readonly issuerName: string;
  readonly keys: readonly unknown[];
  readonly subscribersFile: string;
  readonly controlPlane: Omit<ControlPlaneFacts, 'heartbeatMs'> & {
    readonly issuerId: string;
    readonly announceMs: number;
  };
  readonly health: string;
}

/** The issuer's name is the lab's: the client's challenge prediction and certificate use it. */
export function fitIssuerConfig(operator: Json, lab: IssuerFacts): Fitted {
  const f = new Fitter('issuer', operator);
  f.set('listen', lab.listen, REASONS.address);
  f.set('tls', { cert: lab.tls.cert, key: lab.tls.key }, REASONS.pki);
  f.set('issuerName', lab.issuerName, REASONS.pki);
  f.set('keys', [...lab.keys], REASONS.issuerKeys);
  f.set('attester', { type: 'file', file: lab.subscribersFile }, REASONS.attester);
  const cp = get(operator, 'controlPlane');
  f.set(
    'controlPlane',
    {
      ...(isObject(cp) ? cp : {}),
      servers: [...lab.controlPlane.servers],
      user: lab.controlPlane.user,
      password: lab.controlPlane.password,
      issuerId: lab.controlPlane.issuerId,
      announceMs: lab.controlPlane.announceMs,
    },
    REASONS.controlPlane,
  );
  f.set('health', { listen: lab.health }, REASONS.health);
  if (get(operator, 'limits') === undefined)
    f.set(
      'limits',
      { tokensPerSubscriberPerHour: 1000, maxRequestBytes: 16_384, maxBatch: 32 },
      "the operator config sets no limits; the issuer needs some (the deploy example's)",
    );
  return strip(f.done());
}

/** Drops keys set to undefined inside objects (JSON has no undefined), so configs stay strict. */
function strip(f: Fitted): Fitted {
  return { config: JSON.parse(JSON.stringify(f.config)) as Json, overrides: f.overrides };
}

/** Secrets never appear in the report: passwords in overrides are shown as "(this run's)". */
export function redactOverrides(overrides: readonly Override[]): Override[] {
  const redact = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(redact);
    if (!isObject(v)) return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, /password/i.test(k) ? "(this run's)" : redact(x)]),
    );
  };
  return overrides.map((o) => ({
    ...o,
    ...(o.operator === undefined ? {} : { operator: redact(o.operator) }),
    lab: redact(o.lab),
  }));
}
