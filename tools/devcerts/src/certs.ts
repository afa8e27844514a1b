/**
 * Certificates for the demo and the tests: a CA, leaves it issues, and self-signed leaves
 * that serve as their own trust anchor (how an egress pins an ingress's client certificate).
 */
import { isIP } from 'node:net';
import { generateKeys, importSigningKey, privateKeyPem, SIGNING_ALGORITHM } from './keys.ts';
import { webcrypto, x509 } from './x509.ts';

export type Usage = 'server' | 'client' | 'both';

export interface CertKeyPair {
  readonly certPem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
}

export interface LeafOptions {
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  /** IPv4 or IPv6 literals, e.g. 127.0.0.2 for a relay on a distinct loopback address. */
  readonly ipAddresses?: readonly string[];
  readonly usage: Usage;
  /** Validity in days; 825 unless given. */
  readonly days?: number;
  /** The moment the certificate is made (for tests of expiry); the current time unless given. */
  readonly now?: Date;
}

export interface CaOptions {
  /** Validity in days; 3650 unless given. */
  readonly days?: number;
  readonly now?: Date;
}

const DAY_MS = 86_400_000;
/** Backdating absorbs clock differences between the machine that issues and one that checks. */
const BACKDATE_MS = 3_600_000;

function validity(days: number, now: Date | undefined): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(days) || days < 1) throw new TypeError('days must be a positive integer');
  const start = (now ?? new Date()).getTime();
  return { notBefore: new Date(start - BACKDATE_MS), notAfter: new Date(start + days * DAY_MS) };
}

/** A subject of just a common name, built as a structure so no character needs escaping. */
function nameOf(commonName: string): x509.JsonName {
  if (commonName.length === 0 || commonName.length > 64) {
    throw new TypeError('commonName must be 1-64 characters');
  }
  return [{ CN: [commonName] }];
}

function usageOids(usage: Usage): string[] {
  switch (usage) {
    case 'server':
      return [x509.ExtendedKeyUsage.serverAuth];
    case 'client':
      return [x509.ExtendedKeyUsage.clientAuth];
    case 'both':
      return [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
  }
}

function alternativeNames(options: LeafOptions): x509.JsonGeneralNames {
  const names: x509.JsonGeneralNames = [];
  for (const dns of options.dnsNames ?? []) {
    if (!/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(dns)) {
      throw new TypeError(`not a DNS name: ${JSON.stringify(dns)}`);
    }
    names.push({ type: 'dns', value: dns });
  }
  for (const ip of options.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
    names.push({ type: 'ip', value: ip });
  }
  return names;
}

async function leafExtensions(
  options: LeafOptions,
  publicKey: CryptoKey,
  selfSigned: boolean,
): Promise<x509.Extension[]> {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.ExtendedKeyUsageExtension(usageOids(options.usage), false),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false, webcrypto),
  ];
  // A self-signed leaf is its own trust anchor, and OpenSSL's X509_check_issued refuses a
  // self-issuer whose key usage lacks keyCertSign (which RFC 5280 reserves for CAs). With
  // no key usage at all every verifier sees it as self-signed; EKU still limits its use.
  if (!selfSigned) {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
  }
  const names = alternativeNames(options);
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  return extensions;
}

function pem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem')}\n`;
}

export async function createCa(name: string, options: CaOptions = {}): Promise<CertKeyPair> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: nameOf(name),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      ...validity(options.days ?? 3650, options.now),
      extensions: [
        // pathLength 0: a demo CA issues leaves only, never another CA.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certPem: pem(cert), keyPem: privateKeyPem(keys.privateKey) };
}

export async function issueCert(ca: CertKeyPair, options: LeafOptions): Promise<CertKeyPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = importSigningKey(ca.keyPem, ca.certPem);
  const keys = await generateKeys();
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const extensions = await leafExtensions(options, keys.publicKey, false);
  extensions.push(
    caKeyId !== undefined
      ? new x509.AuthorityKeyIdentifierExtension(caKeyId, false)
      : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, webcrypto),
  );
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: nameOf(options.commonName),
      // The CA's own encoded name, so the issuer field matches its subject byte for byte.
      issuer: caCert.subjectName,
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      ...validity(options.days ?? 825, options.now),
      extensions,
    },
    webcrypto,
  );
  return { certPem: pem(cert), keyPem: privateKeyPem(keys.privateKey) };
}

export async function selfSigned(options: LeafOptions): Promise<CertKeyPair> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: nameOf(options.commonName),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      ...validity(options.days ?? 825, options.now),
      extensions: await leafExtensions(options, keys.publicKey, true),
    },
    webcrypto,
  );
  return { certPem: pem(cert), keyPem: privateKeyPem(keys.privateKey) };
}
