/**
 * A local PKI on disk for the demo and the tests: one CA plus named certificates, each as
 * `<name>.crt` and `<name>.key` (mode 0600). Calling it again reuses what is there and
 * remakes only what is missing, broken, near expiry, no longer matching its spec, or
 * issued by a CA that was remade.
 */
import { chmod, mkdir } from 'node:fs/promises';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createCa, issueCert, selfSigned, type CertKeyPair, type LeafOptions } from './certs.ts';
import { CERT_MODE, KEY_MODE, readIfPresent, withLock, writeAtomic } from './files.ts';
import { x509 } from './x509.ts';

export interface DevCertSpec extends Omit<LeafOptions, 'now'> {
  /** 'ca': issued by the spec's CA; 'self': self-signed, its own trust anchor. */
  readonly issuer: 'ca' | 'self';
}

export interface DevPkiSpec {
  /** The CA's common name, also its file name: `<ca>.crt`, `<ca>.key`. */
  readonly ca: string;
  readonly certs: Readonly<Record<string, DevCertSpec>>;
}

export interface PemPaths {
  readonly cert: string;
  readonly key: string;
}

export interface DevPkiPaths {
  readonly ca: PemPaths;
  readonly certs: Readonly<Record<string, PemPaths>>;
  /** Names (the CA's included) whose files this call wrote. */
  readonly created: readonly string[];
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Remade when less than this is left, so a run that starts never sees one expire. */
const MIN_REMAINING_MS = 86_400_000;

function pathsOf(dir: string, name: string): PemPaths {
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** Canonical text of an IP, so `::1` and `0:0:0:0:0:0:0:1` compare equal. */
function canonicalIp(ip: string): string {
  return ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

/** True if the certificate still says what the spec asks for. */
function matchesSpec(pem: string, spec: DevCertSpec): boolean {
  const cert = new x509.X509Certificate(pem);
  if (cert.subjectName.getField('CN')[0] !== spec.commonName) return false;
  const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const dns = names.filter((n) => n.type === 'dns').map((n) => n.value);
  const ips = names.filter((n) => n.type === 'ip').map((n) => canonicalIp(n.value));
  const usages = cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
  const wantUsages = {
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
    both: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[spec.usage];
  return (
    sameSet(dns, spec.dnsNames ?? []) &&
    sameSet(ips, (spec.ipAddresses ?? []).map(canonicalIp)) &&
    sameSet(usages.map(String), wantUsages)
  );
}

/** The pair on disk if it is whole, matched and fresh enough; undefined to remake it. */
async function loadUsable(
  paths: PemPaths,
  accept: (cert: X509Certificate, pair: CertKeyPair) => boolean,
): Promise<CertKeyPair | undefined> {
  const [certPem, keyPem] = await Promise.all([
    readIfPresent(paths.cert),
    readIfPresent(paths.key),
  ]);
  if (certPem === undefined || keyPem === undefined) return undefined;
  try {
    const cert = new X509Certificate(certPem);
    const now = Date.now();
    const fresh =
      Date.parse(cert.validFrom) <= now && Date.parse(cert.validTo) - now > MIN_REMAINING_MS;
    if (!fresh || !cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    if (!accept(cert, { certPem, keyPem })) return undefined;
  } catch {
    return undefined;
  }
  await chmod(paths.key, KEY_MODE);
  return { certPem, keyPem };
}

async function store(paths: PemPaths, pair: CertKeyPair): Promise<void> {
  await writeAtomic(paths.key, pair.keyPem, KEY_MODE);
  await writeAtomic(paths.cert, pair.certPem, CERT_MODE);
}

export async function ensureDevPki(dir: string, spec: DevPkiSpec): Promise<DevPkiPaths> {
  const root = resolve(dir);
  for (const name of [spec.ca, ...Object.keys(spec.certs)]) {
    if (!FILE_NAME.test(name))
      throw new TypeError(`not a usable file name: ${JSON.stringify(name)}`);
  }
  if (Object.hasOwn(spec.certs, spec.ca)) {
    throw new TypeError(`certificate name ${JSON.stringify(spec.ca)} is the CA's name`);
  }
  await mkdir(root, { recursive: true, mode: 0o700 });

  return withLock(join(root, '.devcerts.lock'), async () => {
    const created: string[] = [];
    const caPaths = pathsOf(root, spec.ca);
    let ca = await loadUsable(caPaths, (cert) => cert.ca && cert.subject === `CN=${spec.ca}`);
    if (ca === undefined) {
      ca = await createCa(spec.ca);
      await store(caPaths, ca);
      created.push(spec.ca);
    }
    const caCert = new X509Certificate(ca.certPem);

    const certs: Record<string, PemPaths> = {};
    for (const [name, certSpec] of Object.entries(spec.certs)) {
      const paths = pathsOf(root, name);
      certs[name] = paths;
      const signer = (cert: X509Certificate): X509Certificate =>
        certSpec.issuer === 'ca' ? caCert : cert;
      const usable = await loadUsable(
        paths,
        (cert, pair) =>
          cert.checkIssued(signer(cert)) &&
          cert.verify(signer(cert).publicKey) &&
          matchesSpec(pair.certPem, certSpec),
      );
      if (usable !== undefined) continue;
      const { issuer: _issuer, ...options } = certSpec;
      const pair =
        certSpec.issuer === 'ca' ? await issueCert(ca, options) : await selfSigned(options);
      await store(paths, pair);
      created.push(name);
    }
    return { ca: caPaths, certs, created };
  });
}
