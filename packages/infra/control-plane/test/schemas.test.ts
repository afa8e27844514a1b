/**
 * The "no per-flow data, by construction" proof: every control message's schema refuses any
 * key it does not name (at the top and inside signed payloads), names no client or target
 * field, and leaves its strings no room for free text.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import fc from 'fast-check';
import { entrySchema, signEntry, signedEntrySchema } from '@splitrelay/directory';
import {
  FAMILIES,
  healthSchema,
  ingressCertPayloadSchema,
  messageId,
  MAX_MANIFEST_MESSAGE_BYTES,
  quantizeLoad,
  schemaFor,
  signIngressCert,
  type Family,
} from '../src/index.ts';
import { manifestSchema, signManifest } from '@splitrelay/egress-addresses';
import { CERT_A, CERT_B, certFor, entryFor, healthFor, manifestFor, operator } from './fixtures.ts';

const op = operator();
const samples: Record<Family, Record<string, unknown>> = {
  directory: signEntry(entryFor(op.kid), op.privateKey, op.kid),
  'egress-health': healthFor(),
  'ingress-health': healthFor({ id: 'ingress-ams-1', status: 'draining' }),
  'ingress-cert': signIngressCert(certFor(), op.privateKey, op.kid),
  'egress-manifest': signManifest(manifestFor(op.kid, 'egress'), op.privateKey, op.kid),
  'ingress-manifest': signManifest(manifestFor(op.kid, 'ingress'), op.privateKey, op.kid),
};
const SIGNED: readonly Family[] = [
  'directory',
  'ingress-cert',
  'egress-manifest',
  'ingress-manifest',
];

/** Keys a leaky publisher would be tempted to add. */
const TEMPTING = [
  'clientAddr',
  'clientAddress',
  'client',
  'clientIp',
  'target',
  'targetHost',
  'host',
  'hostname',
  'port',
  'sni',
  'authority',
  'forwarded',
  'x-forwarded-for',
  'flow',
  'flowId',
  'remoteAddress',
  'remotePort',
  'localAddress',
  'peer',
  'addr',
  'ip',
  'url',
  'path',
  'dst',
  'src',
  'note',
  'comment',
  'debug',
  'meta',
  'extra',
  '__proto__',
  'constructor',
  'toString',
];

/** Free text carrying a client or target, tried in every string field that is ours. */
const LEAKY_STRINGS = [
  '203.0.113.7',
  '203.0.113.7:51234',
  '[2001:db8::7]:443',
  '2001:db8::7',
  'client 203.0.113.7',
  'example.com',
  'www.example.com:443',
  'CONNECT example.com:443',
  'target=example.com',
  'up 203.0.113.7',
  'Up',
  ' up',
  '',
  'a'.repeat(300),
];

function withKey(
  obj: Record<string, unknown>,
  key: string,
  value: unknown,
): Record<string, unknown> {
  // defineProperty, so '__proto__' becomes an own key, as JSON.parse would make it.
  const copy = { ...obj };
  Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
  return copy;
}

function payloadOf(signed: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(Buffer.from(signed['payload'] as string, 'base64url').toString('utf8'));
}

/** Replaces the payload without re-signing: the schema judges shape, not signatures. */
function withPayload(signed: Record<string, unknown>, payload: unknown): Record<string, unknown> {
  return { ...signed, payload: Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url') };
}

const accepts = (family: Family, value: unknown): boolean =>
  schemaFor(family).safeParse(value).success;

test('every sample message is valid, also after a JSON round trip', () => {
  for (const family of FAMILIES) {
    assert.ok(accepts(family, samples[family]), family);
    assert.ok(accepts(family, JSON.parse(JSON.stringify(samples[family]))), family);
  }
});

test('the schemas name exactly the fields of the contract, none of them per-flow', () => {
  assert.deepEqual(Object.keys(healthSchema.shape).sort(), [
    'capacity',
    'id',
    'load',
    'sentAt',
    'sessions',
    'status',
    'ttlMs',
    'v',
  ]);
  assert.deepEqual(Object.keys(ingressCertPayloadSchema.shape).sort(), [
    'certPem',
    'id',
    'notAfter',
    'notBefore',
    'v',
    'version',
  ]);
  assert.deepEqual(Object.keys(signedEntrySchema.shape).sort(), ['kid', 'payload', 'sig']);
  // A manifest's promises: none of them is about a client, a target or a flow.
  assert.deepEqual(Object.keys(manifestSchema.shape).sort(), [
    'addresses',
    'forwardsClientData',
    'issuedAt',
    'logging',
    'notAfter',
    'operator',
    'relayId',
    'retention',
    'role',
    'software',
    'tokens',
    'v',
    'version',
  ]);
  assert.deepEqual(Object.keys(entrySchema.shape).sort(), [
    'endpoint',
    'geofeed',
    'id',
    'manifest',
    'notAfter',
    'notBefore',
    // The gateway's key configurations: the same for every client (key consistency).
    'ohttpKeys',
    'operator',
    'region',
    'serves',
    'tlsPins',
    'v',
    'version',
  ]);
});

test('a tempting extra key is refused by every schema, at the top and inside signed payloads', () => {
  for (const family of FAMILIES) {
    for (const key of TEMPTING) {
      for (const value of ['203.0.113.7', 443, null, { host: 'example.com' }]) {
        assert.equal(
          accepts(family, withKey(samples[family], key, value)),
          false,
          `${family} ${key}`,
        );
        if (SIGNED.includes(family)) {
          const inner = withKey(payloadOf(samples[family]), key, value);
          assert.equal(
            accepts(family, withPayload(samples[family], inner)),
            false,
            `${family} payload.${key}`,
          );
        }
      }
    }
  }
});

test('any extra key with any JSON value is refused (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...FAMILIES),
      fc.string({ minLength: 1, maxLength: 24 }),
      fc.jsonValue(),
      fc.boolean(),
      (family, key, value, inside) => {
        const sample = samples[family];
        if (inside && SIGNED.includes(family)) {
          const inner = payloadOf(sample);
          fc.pre(!Object.hasOwn(inner, key));
          // Through JSON, as a subscriber would see it.
          const wire = JSON.parse(JSON.stringify(withPayload(sample, withKey(inner, key, value))));
          assert.equal(accepts(family, wire), false);
        } else {
          fc.pre(!Object.hasOwn(sample, key));
          assert.equal(accepts(family, withKey(sample, key, value)), false);
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('string fields of the health message take no free text', () => {
  for (const field of ['id', 'status']) {
    for (const text of LEAKY_STRINGS) {
      if (field === 'id' && text === 'example.com') continue; // checked below: dots refused
      assert.equal(
        healthSchema.safeParse(healthFor({ [field]: text })).success,
        false,
        `${field}=${text}`,
      );
    }
  }
  assert.equal(healthSchema.safeParse(healthFor({ id: 'example.com' })).success, false);
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (text) => {
      const ok = healthSchema.safeParse(healthFor({ id: text })).success;
      // A DNS label, and not a number (authority's relay-id rule, spelled out independently).
      const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(text);
      assert.equal(ok, label && !/^(?:[0-9]+|0x[0-9a-f]*)$/.test(text));
      assert.equal(
        healthSchema.safeParse(healthFor({ status: text })).success,
        text === 'up' || text === 'draining',
      );
    }),
  );
});

test('numbers of the health message are bounded counters and a coarse load', () => {
  const bad: Array<[string, unknown]> = [
    ['load', 0.1234],
    ['load', -0.001],
    ['load', 1.001],
    ['load', Number.NaN],
    ['load', '0.5'],
    ['sessions', 1.5],
    ['sessions', -1],
    ['sessions', 1_000_000_001],
    ['sessions', 3_405_803_783], // 203.0.113.7 as a 32-bit number
    ['capacity', Number.MAX_SAFE_INTEGER],
    ['sentAt', -1],
    ['sentAt', 1e16],
    ['ttlMs', 0],
    ['ttlMs', 3_600_001],
    ['v', 2],
  ];
  for (const [field, value] of bad) {
    assert.equal(
      healthSchema.safeParse(healthFor({ [field]: value })).success,
      false,
      `${field}=${value}`,
    );
  }
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (load) => {
      assert.ok(healthSchema.safeParse(healthFor({ load: quantizeLoad(load) })).success);
    }),
  );
  assert.equal(quantizeLoad(2), 1);
  assert.equal(quantizeLoad(-1), 0);
  assert.equal(quantizeLoad(Number.NaN), 1);
});

test('envelope strings are canonical base64url and a keyIdOf kid', () => {
  for (const family of SIGNED) {
    const sample = samples[family];
    for (const kid of [
      '203.0.113.7',
      'example.com',
      'client',
      'ABCDEF0123456789',
      'a'.repeat(15),
    ]) {
      assert.equal(accepts(family, { ...sample, kid }), false, `${family} kid=${kid}`);
    }
    assert.equal(accepts(family, { ...sample, payload: `${sample['payload'] as string}=` }), false);
    assert.equal(accepts(family, { ...sample, payload: 'MjAzLjAuMTEzLjc' }), false); // "203.0.113.7"
    assert.equal(accepts(family, { ...sample, sig: 'x' }), false);
    assert.equal(accepts(family, { ...sample, payload: 42 }), false);
    assert.equal(accepts(family, { payload: sample['payload'], sig: sample['sig'] }), false);
  }
});

test('the ingress cert payload takes one canonical PEM certificate and nothing else', () => {
  const base = payloadOf(samples['ingress-cert']);
  const ok = (certPem: unknown): boolean =>
    accepts('ingress-cert', withPayload(samples['ingress-cert'], { ...base, certPem }));
  assert.equal(ok(CERT_A), true);
  assert.equal(ok(CERT_B), true);
  const body = (s: string) => Buffer.from(s).toString('base64');
  for (const pem of [
    `-----BEGIN CERTIFICATE-----\n${body('client 203.0.113.7')}\n-----END CERTIFICATE-----\n`,
    `client 203.0.113.7\n${CERT_A}`,
    `${CERT_A}target example.com\n`,
    `${CERT_A}${CERT_B}`,
    CERT_A.replaceAll('\n', '\r\n'),
    CERT_A.trimEnd(),
    CERT_A.replace(
      '-----BEGIN CERTIFICATE-----\n',
      '-----BEGIN CERTIFICATE-----\nHost: example.com\n',
    ),
    ...LEAKY_STRINGS,
  ]) {
    assert.equal(ok(pem), false, pem.slice(0, 60));
  }
  for (const text of LEAKY_STRINGS) {
    assert.equal(ingressCertPayloadSchema.safeParse(certFor({ id: text })).success, false, text);
  }
  assert.equal(ingressCertPayloadSchema.safeParse(certFor({ notAfter: 1 })).success, false);
});

test('messageId reads the id a message speaks for', () => {
  assert.equal(messageId('egress-health', samples['egress-health']), 'edge-fra-1');
  assert.equal(messageId('directory', samples.directory), 'edge-fra-1');
  assert.equal(messageId('ingress-cert', samples['ingress-cert']), 'ingress-ams-1');
  assert.equal(messageId('egress-manifest', samples['egress-manifest']), 'edge-fra-1');
  assert.equal(messageId('ingress-manifest', samples['ingress-manifest']), 'ingress-ams-1');
  assert.equal(messageId('directory', { payload: '!!' }), undefined);
  assert.equal(messageId('egress-health', null), undefined);
});

test('random JSON is never accepted by accident and never makes a schema throw', () => {
  fc.assert(
    fc.property(fc.constantFrom(...FAMILIES), fc.jsonValue(), (family, value) => {
      assert.equal(accepts(family, value), false);
    }),
  );
});

test("a manifest travels only in its own role's family, and only when it fits a message", () => {
  assert.equal(accepts('egress-manifest', samples['ingress-manifest']), false);
  assert.equal(accepts('ingress-manifest', samples['egress-manifest']), false);
  // A directory entry's envelope is not a manifest, whatever the key.
  assert.equal(accepts('egress-manifest', samples.directory), false);
  const huge = manifestFor(op.kid, 'egress');
  const regions = Array.from({ length: 200 }, (_, i) => ({
    id: `r${i}`,
    country: 'DE',
    prefixes: Array.from({ length: 3 }, (_, j) => `10.${i}.${j}.0/24`),
    entropyBits: { ipv4: 9.5 },
  }));
  const big = signManifest(
    { ...huge, addresses: { ...huge.addresses!, regions } },
    op.privateKey,
    op.kid,
  );
  assert.ok(Buffer.from(big.payload, 'base64url').length > MAX_MANIFEST_MESSAGE_BYTES);
  assert.equal(accepts('egress-manifest', big), false);
});
