/** Shared test fixtures: operators, a good directory entry, ingress certificates, heartbeats. */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import { generateOperatorKey, type Entry } from '@splitrelay/directory';
import type { Manifest } from '@splitrelay/egress-addresses';
import type { Health, IngressCertPayload } from '../src/index.ts';

/** Unix seconds and the same instant in milliseconds. */
export const NOW = 1_800_000_000;
export const NOW_MS = NOW * 1000;

export interface TestOperator {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  readonly trusted: Readonly<Record<string, string>>;
}

export function operator(): TestOperator {
  const key = generateOperatorKey();
  return {
    kid: key.kid,
    privateKey: createPrivateKey(key.privateKeyPem),
    publicKeyPem: key.publicKeyPem,
    trusted: { [key.kid]: key.publicKeyPem },
  };
}

export function pinOf(label: string): string {
  return createHash('sha256').update(label).digest('base64');
}

export function entryFor(
  kid: string,
  overrides: Partial<Record<keyof Entry, unknown>> = {},
): Entry {
  return {
    v: 1,
    id: 'edge-fra-1',
    operator: kid,
    endpoint: 'egress1.cdn.example:8443',
    region: 'eu-central',
    tlsPins: [pinOf('a')],
    notBefore: NOW - 3600,
    notAfter: NOW + 3600,
    version: 1,
    ...overrides,
  } as Entry;
}

/** Self-signed P-256 certificates (openssl, 100 years), as an ingress's trunk certificate. */
export const CERT_A = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUCbBWeq5obonL+KsZW59O9ZzSQWEwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJaW5ncmVzcy1hMCAXDTI2MTEyMzE5NDc1MFoYDzIxMjYxMDMw
MTk0NzUwWjAUMRIwEAYDVQQDDAlpbmdyZXNzLWEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASYCHg1R+Wj5Z4nzINmoBZhq8UcEWSZ6VAAiiQHUEHKBPoYOZyQSLMF
vfLk8zUVTil+MNTPuObIcVC8ke/HyKPuo1MwUTAdBgNVHQ4EFgQUrltvicwCjqFV
x09HPX4yLt2+BpowHwYDVR0jBBgwFoAUrltvicwCjqFVx09HPX4yLt2+BpowDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAob+7bkbMj6phCfQA9NMk
9uSSFDYukPh1oJUzP/NvhosCIAHqFq7Jved5BPM0A8pAkp4fiBovv3tTfeIM52Uj
ADRS
-----END CERTIFICATE-----
`;
export const CERT_B = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUMaEkXuF+1EbP2VIXGISL6o+Erd0wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJaW5ncmVzcy1iMCAXDTI2MTEyMzE5NDc1MFoYDzIxMjYxMDMw
MTk0NzUwWjAUMRIwEAYDVQQDDAlpbmdyZXNzLWIwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ8yqSGSZnJ4tsczt06CBA23KyqlTvnOpRG652rmdA8B6CDaaKJbk2k
aw3xCmfpgSEiWn/GehqKbHJnyDcv7X6Yo1MwUTAdBgNVHQ4EFgQUP7n71WUqwPqy
C5WRSjuI4G5OlBkwHwYDVR0jBBgwFoAUP7n71WUqwPqyC5WRSjuI4G5OlBkwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA3ayaHtvcd8p0qTjZEXpe
JyIw3MqnCqDoOVXx136mAqcCIHl+p0WDTKMcyVVYKUZZB+gy0n6j4LEacwZ8QXUC
VRZG
-----END CERTIFICATE-----
`;

export function certFor(
  overrides: Partial<Record<keyof IngressCertPayload, unknown>> = {},
): IngressCertPayload {
  return {
    v: 1,
    id: 'ingress-ams-1',
    certPem: CERT_A,
    notBefore: NOW - 3600,
    notAfter: NOW + 3600,
    version: 1,
    ...overrides,
  } as IngressCertPayload;
}

export function healthFor(overrides: Partial<Record<keyof Health, unknown>> = {}): Health {
  return {
    v: 1,
    id: 'edge-fra-1',
    status: 'up',
    load: 0.25,
    sessions: 10,
    capacity: 1000,
    sentAt: NOW_MS,
    ttlMs: 3000,
    ...overrides,
  } as Health;
}

/** A relay's operator manifest as its sign-manifest tool would make it. */
export function manifestFor(kid: string, role: 'egress' | 'ingress' = 'egress'): Manifest {
  return {
    v: 1,
    operator: kid,
    relayId: role === 'egress' ? 'edge-fra-1' : 'ingress-ams-1',
    role,
    version: 1,
    issuedAt: NOW - 3600,
    notAfter: NOW + 30 * 86400,
    forwardsClientData: false,
    logging: {
      level: 'info',
      fields: ['code', 'sessions'],
      perFlowRecords: false,
      clientAddresses: role === 'ingress',
      targets: false,
    },
    retention: { logsDays: 7, metricsDays: 30 },
    ...(role === 'egress'
      ? {
          addresses: {
            drawnPer: 'session' as const,
            entropyFloorBits: 8,
            regions: [
              {
                id: 'de',
                country: 'DE',
                prefixes: ['198.51.100.0/24'],
                entropyBits: { ipv4: 7.98 },
              },
            ],
          },
        }
      : {}),
    tokens: { required: role === 'ingress', tokenTypes: [], issuers: [], doubleSpend: 'none' },
    software: {
      name: `@splitrelay/${role}-app`,
      version: '0.1.0',
      buildDigest: `sha256:${'0'.repeat(64)}`,
    },
  };
}
