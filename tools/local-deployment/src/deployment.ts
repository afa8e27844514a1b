/**
 * A complete SplitRelay deployment on loopback, as files: PKI, the egress operator's key, a
 * signed directory, the issuer's key and subscriber, and one config per role (configs.ts). The
 * demo, the end-to-end tests and the bench all build their world with this, so they run the
 * real apps with real configs.
 */
import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDevPki, type DevCertSpec } from '@splitrelay/devcerts';
import {
  writeDirectoryFile,
  directoryFile,
  generateOperatorKey,
  keyIdOf,
  signEntry,
  spkiPin,
  type SignedEntry,
} from '@splitrelay/directory';
import { base64url, generateIssuerKeyPem, loadIssuerKey } from '@splitrelay/privacy-pass';
import { roleConfigs, type RoleConfigs } from './configs.ts';
import {
  EMPTY_RING,
  addKey,
  publishedKeys,
  readKeyRing,
  writeKeyRing,
  type KemName,
} from '@splitrelay/ohttp-gateway';

export interface EgressSpec {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly region: string;
  /** Where its address pools geolocate to, and its published documents (entry fields). */
  readonly serves?: readonly string[];
  readonly geofeed?: string;
  readonly manifest?: string;
}

export interface DeploymentSpec {
  readonly dir: string;
  readonly ingressHost: string;
  /** The ingress's client-facing port in its config; 0 (the OS picks) by default. */
  readonly ingressPort?: number;
  /** Name on the ingress certificate (clients check it). */
  readonly ingressName: string;
  /** The ingress's name towards the egresses and on the control plane; `ingress-1` by default. */
  readonly ingressId?: string;
  readonly egresses: readonly EgressSpec[];
  /** Hosts that get a certificate from the local CA, for HTTPS targets. */
  readonly targetHosts: readonly string[];
  readonly targetName: string;
  /** What the egresses may reach (their allowlist); the target hosts alone by default. */
  readonly targetCidrs?: readonly string[];
  /** The clients' source address (each role has its own loopback address). */
  readonly clientHost?: string;
  /**
   * A Privacy Pass issuer: its TLS name and address (port 0, the OS picks, by default), a token
   * key and one subscriber.
   */
  readonly issuer?: { readonly host: string; readonly name: string; readonly port?: number };
  /**
   * An Oblivious HTTP gateway at every egress: a key ring per egress (one key per KEM, in
   * this order; x25519 alone by default), its published keys in the signed entry.
   */
  readonly ohttp?: { readonly kems?: readonly KemName[] };
}

export interface IssuerMaterial {
  readonly name: string;
  readonly cert: string;
  readonly key: string;
  /** The token signing key (PKCS#8 PEM file) and its public form (base64url SPKI). */
  readonly privateKey: string;
  readonly tokenKey: string;
  /** The demo subscriber: its credential (also in `credentialFile`) and the attester file. */
  readonly credential: string;
  readonly credentialFile: string;
  readonly subscribersFile: string;
  /**
   * The token key's window: seven days from now, within the ingress's default spent-token
   * memory (eight days), as a real rotation schedule must be.
   */
  readonly keyWindow: { readonly notBefore: number; readonly notAfter: number };
}

export interface Deployment {
  readonly dir: string;
  readonly caCert: string;
  readonly ingress: { cert: string; key: string; trunkCert: string; trunkKey: string };
  readonly egress: Readonly<Record<string, { cert: string; key: string }>>;
  readonly target: { cert: string; key: string };
  /** The egress operator's Ed25519 key pair (PEM files): directory entries, egress manifests. */
  readonly operatorKey: string;
  readonly operatorPublicKey: string;
  /** The ingress operator's (another organisation's) key pair: ingress manifests. */
  readonly ingressOperatorKey: string;
  readonly ingressOperatorPublicKey: string;
  readonly directoryFile: string;
  readonly issuer?: IssuerMaterial;
  /** Each role's config with the deployment's addresses, certificates and keys filled in. */
  readonly configs: RoleConfigs;
  /** Each egress's OHTTP key ring file (with `ohttp`). */
  readonly ohttpKeyRings: Readonly<Record<string, string>>;
  /** The entries as first signed (tests re-sign them with changes). */
  readonly entries: readonly SignedEntryInput[];
  /** Writes `<name>.json` in the deployment folder and returns its path. */
  writeConfig(name: string, config: unknown): Promise<string>;
  /** Re-signs the directory (e.g. with other entries, for negative tests). */
  signDirectory(entries: readonly SignedEntryInput[], file?: string): Promise<string>;
}

export interface SignedEntryInput {
  readonly id: string;
  readonly endpoint: string;
  readonly region: string;
  readonly serves?: readonly string[];
  readonly geofeed?: string;
  readonly manifest?: string;
  readonly tlsPins: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
  readonly version: number;
  /** base64url of application/ohttp-keys. */
  readonly ohttpKeys?: string;
}

export async function prepareDeployment(spec: DeploymentSpec): Promise<Deployment> {
  await mkdir(spec.dir, { recursive: true });
  const certs: Record<string, DevCertSpec> = {
    ingress: {
      commonName: spec.ingressName,
      dnsNames: [spec.ingressName],
      ipAddresses: [spec.ingressHost],
      usage: 'server',
      issuer: 'ca',
    },
    'ingress-trunk': { commonName: 'ingress-trunk', usage: 'client', issuer: 'self' },
    target: {
      commonName: spec.targetName,
      dnsNames: [spec.targetName],
      ipAddresses: [...spec.targetHosts],
      usage: 'server',
      issuer: 'ca',
    },
  };
  for (const e of spec.egresses) {
    certs[`egress-${e.id}`] = {
      commonName: e.id,
      dnsNames: [e.id],
      ipAddresses: [e.host],
      usage: 'server',
      issuer: 'self',
    };
  }
  if (spec.issuer) {
    certs.issuer = {
      commonName: spec.issuer.name,
      dnsNames: [spec.issuer.name],
      ipAddresses: [spec.issuer.host],
      usage: 'server',
      issuer: 'ca',
    };
  }
  const pki = await ensureDevPki(join(spec.dir, 'pki'), { ca: 'splitrelay-demo-ca', certs });
  const pathOf = (name: string): { cert: string; key: string } => {
    const p = pki.certs[name];
    if (!p) throw new Error(`missing certificate ${name}`);
    return p;
  };

  const operatorKeyFile = join(spec.dir, 'operator.key');
  const operatorPublicKey = join(spec.dir, 'operator.pub');
  if (!existsSync(operatorKeyFile) || !existsSync(operatorPublicKey)) {
    const key = generateOperatorKey();
    await writeFile(operatorKeyFile, key.privateKeyPem, { mode: 0o600 });
    await writeFile(operatorPublicKey, key.publicKeyPem);
  }
  const ingressOperatorKey = join(spec.dir, 'ingress-operator.key');
  const ingressOperatorPublicKey = join(spec.dir, 'ingress-operator.pub');
  if (!existsSync(ingressOperatorKey) || !existsSync(ingressOperatorPublicKey)) {
    const key = generateOperatorKey();
    await writeFile(ingressOperatorKey, key.privateKeyPem, { mode: 0o600 });
    await writeFile(ingressOperatorPublicKey, key.publicKeyPem);
  }
  const operator = {
    privateKey: createPrivateKey(await readFile(operatorKeyFile, 'utf8')),
    kid: keyIdOf(await readFile(operatorPublicKey, 'utf8')),
  };

  const signDirectory = async (
    entries: readonly SignedEntryInput[],
    file = join(spec.dir, 'directory.json'),
  ): Promise<string> => {
    const signed: SignedEntry[] = entries.map((e) =>
      signEntry(
        {
          v: 1,
          operator: operator.kid,
          ...e,
          tlsPins: [...e.tlsPins],
          ...(e.serves ? { serves: [...e.serves] } : {}),
        },
        operator.privateKey,
        operator.kid,
      ),
    );
    writeDirectoryFile(file, directoryFile(signed));
    return file;
  };

  const now = Math.floor(Date.now() / 1000);
  const egress: Record<string, { cert: string; key: string }> = {};
  const entries: SignedEntryInput[] = [];
  const ohttpKeyRings: Record<string, string> = {};
  for (const e of spec.egresses) {
    const paths = pathOf(`egress-${e.id}`);
    egress[e.id] = paths;
    let ohttpKeys: string | undefined;
    if (spec.ohttp) {
      const ring = join(spec.dir, `ohttp-keys-${e.id}.json`);
      if (!existsSync(ring)) {
        let next = EMPTY_RING;
        for (const kem of spec.ohttp.kems ?? ['x25519']) next = (await addKey(next, kem)).ring;
        writeKeyRing(ring, next);
      }
      ohttpKeyRings[e.id] = ring;
      ohttpKeys = Buffer.from(await publishedKeys(readKeyRing(ring))).toString('base64url');
    }
    entries.push({
      ...(ohttpKeys !== undefined ? { ohttpKeys } : {}),
      id: e.id,
      endpoint: `${e.host}:${e.port}`,
      region: e.region,
      ...(e.serves ? { serves: e.serves } : {}),
      ...(e.geofeed ? { geofeed: e.geofeed } : {}),
      ...(e.manifest ? { manifest: e.manifest } : {}),
      tlsPins: [spkiPin(await readFile(paths.cert, 'utf8'))],
      notBefore: now - 60,
      notAfter: now + 7 * 86_400,
      version: now,
    });
  }
  const directory = await signDirectory(entries);
  const ingressPaths = pathOf('ingress');
  const trunkPaths = pathOf('ingress-trunk');

  const issuer = spec.issuer
    ? await prepareIssuer(spec.dir, spec.issuer.name, pathOf('issuer'))
    : undefined;

  const ingress = { ...ingressPaths, trunkCert: trunkPaths.cert, trunkKey: trunkPaths.key };
  const configs = roleConfigs({
    ingress: {
      ...ingress,
      host: spec.ingressHost,
      port: spec.ingressPort ?? 0,
      name: spec.ingressName,
      id: spec.ingressId ?? 'ingress-1',
    },
    egresses: Object.fromEntries(
      spec.egresses.map((e) => [
        e.id,
        {
          host: e.host,
          port: e.port,
          ...pathOf(`egress-${e.id}`),
          ...(ohttpKeyRings[e.id] ? { ohttpKeyRing: ohttpKeyRings[e.id] } : {}),
        },
      ]),
    ),
    target: {
      name: spec.targetName,
      hosts: spec.targetHosts,
      cidrs:
        spec.targetCidrs ?? spec.targetHosts.map((h) => (h.includes(':') ? `${h}/128` : `${h}/32`)),
    },
    clientHost: spec.clientHost,
    ohttp: spec.ohttp !== undefined,
    caCert: pki.ca.cert,
    operatorPublicKey,
    directoryFile: directory,
    issuer:
      issuer && spec.issuer
        ? { ...issuer, host: spec.issuer.host, port: spec.issuer.port ?? 0 }
        : undefined,
  });

  return {
    dir: spec.dir,
    ...(issuer ? { issuer } : {}),
    caCert: pki.ca.cert,
    ingress,
    egress,
    target: pathOf('target'),
    operatorKey: operatorKeyFile,
    operatorPublicKey,
    ingressOperatorKey,
    ingressOperatorPublicKey,
    directoryFile: directory,
    ohttpKeyRings,
    entries,
    configs,
    async writeConfig(name, config) {
      const file = join(spec.dir, `${name}.json`);
      await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
      return file;
    },
    signDirectory,
  };
}

/** A token key and one subscriber for the issuer, made once per deployment folder. */
async function prepareIssuer(
  dir: string,
  name: string,
  tls: { cert: string; key: string },
): Promise<IssuerMaterial> {
  const privateKey = join(dir, 'issuer-token.key');
  const credentialFile = join(dir, 'subscriber.credential');
  const subscribersFile = join(dir, 'subscribers.json');
  if (!existsSync(privateKey)) {
    await writeFile(privateKey, generateIssuerKeyPem().privateKeyPem, { mode: 0o600 });
  }
  if (!existsSync(credentialFile) || !existsSync(subscribersFile)) {
    const credential = randomBytes(24).toString('base64url');
    await writeFile(credentialFile, `${credential}\n`, { mode: 0o600 });
    const hash = createHash('sha256').update(credential, 'utf8').digest('hex');
    await writeFile(
      subscribersFile,
      `${JSON.stringify([{ subscriber: 'demo-subscriber', credentialSha256: hash }], null, 2)}\n`,
    );
  }
  const key = await loadIssuerKey(await readFile(privateKey, 'utf8'));
  const now = Math.floor(Date.now() / 1000);
  return {
    keyWindow: { notBefore: now - 60, notAfter: now + 7 * 86_400 },
    name,
    ...tls,
    privateKey,
    tokenKey: base64url(key.tokenKey.spki),
    credential: (await readFile(credentialFile, 'utf8')).trim(),
    credentialFile,
    subscribersFile,
  };
}
