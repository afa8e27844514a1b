/**
 * The issuer-keys family: a subject inside the ingress account, a strict schema with no room
 * for anything but RSA token keys and their windows, and a round trip through the shell.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { RelayError } from '@splitrelay/errors';
import { IssuerKeySet, generateIssuerKeyPem, loadIssuerKey } from '@splitrelay/privacy-pass';
import {
  FAMILIES,
  ISSUER_KEYS_WILDCARD,
  PRIVATE_FAMILIES,
  connectControlPlane,
  crossesAccounts,
  issuerKeysMessageSchema,
  issuerKeysSubject,
  issuerKeysValidAt,
  issuerKeysMessage,
  isTokenKey,
  messageId,
  parseSubject,
  schemaFor,
  type ControlPlaneClient,
  type Delivery,
  type DropReason,
  type IssuerKeysMessage,
} from '../src/index.ts';
import { NOW, NOW_MS } from './fixtures.ts';
import { TestNatsServer } from './nats-server.ts';

function rsaPssSpki(bits = 2048): Buffer {
  return generateKeyPairSync('rsa-pss', { modulusLength: bits }).publicKey.export({
    type: 'spki',
    format: 'der',
  });
}

// Real RFC 9578 §6.5 token keys (RSASSA-PSS, SHA-384, salt 48), as the issuer makes them.
const KEY_A = Buffer.from(generateIssuerKeyPem().tokenKey).toString('base64url');
const KEY_B = Buffer.from(generateIssuerKeyPem().tokenKey).toString('base64url');

function message(overrides: Partial<Record<keyof IssuerKeysMessage, unknown>> = {}) {
  return {
    v: 1,
    issuerId: 'issuer-1',
    issuerName: 'issuer.splitrelay.test',
    sentAt: NOW_MS,
    keys: [
      { tokenType: 2, tokenKey: KEY_A, notBefore: NOW - 60, notAfter: NOW + 3600 },
      { tokenType: 2, tokenKey: KEY_B, notBefore: NOW + 1800, notAfter: NOW + 7200 },
    ],
    ...overrides,
  } as IssuerKeysMessage;
}

const accepts = (value: unknown): boolean => issuerKeysMessageSchema.safeParse(value).success;

test('the subject stays under the ingress account and the crossing families are unchanged', () => {
  assert.equal(issuerKeysSubject('issuer-1'), 'splitrelay.private.ingress.issuer-keys.issuer-1');
  assert.equal(ISSUER_KEYS_WILDCARD, 'splitrelay.private.ingress.issuer-keys.*');
  assert.deepEqual(parseSubject('splitrelay.private.ingress.issuer-keys.issuer-1'), {
    family: 'issuer-keys',
    id: 'issuer-1',
  });
  assert.deepEqual(FAMILIES, [
    'directory',
    'egress-health',
    'ingress-health',
    'ingress-cert',
    'egress-manifest',
    'ingress-manifest',
  ]);
  assert.deepEqual(PRIVATE_FAMILIES, ['issuer-keys']);
  assert.equal(crossesAccounts('issuer-keys'), false);
  for (const f of FAMILIES) assert.equal(crossesAccounts(f), true);
  assert.throws(() => issuerKeysSubject('Issuer 1'), TypeError);
  assert.equal(parseSubject('splitrelay.private.ingress.issuer-keys.a.b'), undefined);
});

test('a good announcement is valid, also after a JSON round trip, and names its issuer', () => {
  assert.ok(accepts(message()));
  assert.ok(accepts(JSON.parse(JSON.stringify(message()))));
  assert.ok(schemaFor('issuer-keys').safeParse(message()).success);
  assert.equal(messageId('issuer-keys', message()), 'issuer-1');
  assert.equal(messageId('issuer-keys', { id: 'issuer-1' }), undefined);
  assert.deepEqual(Object.keys(issuerKeysMessageSchema.shape).sort(), [
    'issuerId',
    'issuerName',
    'keys',
    'sentAt',
    'v',
  ]);
});

test('issuerKeysValidAt keeps the keys whose window holds the moment', () => {
  const m = message();
  assert.deepEqual(
    issuerKeysValidAt(m, NOW).map((k) => k.tokenKey),
    [KEY_A],
  );
  assert.deepEqual(
    issuerKeysValidAt(m, NOW + 1800).map((k) => k.tokenKey),
    [KEY_A, KEY_B],
  );
  assert.deepEqual(issuerKeysValidAt(m, NOW + 7200), []);
});

test('an extra key anywhere is refused', () => {
  for (const key of ['clientAddr', 'subscriber', 'target', 'note', '__proto__', 'keyId']) {
    const top = { ...message() } as Record<string, unknown>;
    Object.defineProperty(top, key, { value: 'x', enumerable: true });
    assert.equal(accepts(top), false, key);
    const m = message();
    const inner = { ...m.keys[0] } as Record<string, unknown>;
    Object.defineProperty(inner, key, { value: 'x', enumerable: true });
    assert.equal(accepts({ ...m, keys: [inner] }), false, `keys[].${key}`);
  }
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 24 }), fc.jsonValue(), (key, value) => {
      const m = message() as unknown as Record<string, unknown>;
      fc.pre(!Object.hasOwn(m, key));
      const copy = { ...m };
      Object.defineProperty(copy, key, { value, enumerable: true });
      assert.equal(accepts(copy), false);
    }),
    { numRuns: 200 },
  );
});

test('fields take no free text and keys must be 2048-bit RSA SPKIs, spelled canonically', () => {
  const der = Buffer.from(KEY_A, 'base64url');
  const badKeys = [
    '',
    'client 203.0.113.7',
    `${KEY_A}=`,
    `${KEY_A.slice(0, -1)}`,
    Buffer.concat([der, Buffer.from('203.0.113.7')]).toString('base64url'),
    rsaPssSpki(1024).toString('base64url'),
    // RSASSA-PSS without the token type's SHA-384 parameters: not a type 0x0002 token key.
    rsaPssSpki(2048).toString('base64url'),
    generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64url'),
    'A'.repeat(800),
  ];
  for (const tokenKey of badKeys) {
    assert.equal(isTokenKey(tokenKey), false, tokenKey.slice(0, 30));
    const m = message();
    assert.equal(
      accepts({ ...m, keys: [{ ...m.keys[0], tokenKey }] }),
      false,
      tokenKey.slice(0, 30),
    );
  }
  // rsaEncryption is not the Token Key form (RFC 9578 §6.5 names RSASSA-PSS).
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  assert.equal(
    isTokenKey(rsa.export({ type: 'spki', format: 'der' }).toString('base64url')),
    false,
  );

  const m = message();
  const bad: Array<Partial<Record<keyof IssuerKeysMessage, unknown>>> = [
    { v: 2 },
    { issuerId: 'Issuer 1' },
    { issuerId: '203.0.113.7' },
    { issuerName: 'issuer.example 203.0.113.7' },
    { issuerName: 'Issuer.Example' },
    { issuerName: '' },
    { sentAt: -1 },
    { sentAt: 1e16 },
    { keys: [] },
    { keys: [m.keys[0], m.keys[0]] },
    { keys: [{ ...m.keys[0], tokenType: 1 }] },
    { keys: [{ ...m.keys[0], notAfter: NOW - 60 }] },
    { keys: [{ ...m.keys[0], notBefore: 1.5 }] },
    { keys: Array.from({ length: 17 }, () => m.keys[0]) },
  ];
  for (const overrides of bad) {
    assert.equal(accepts(message(overrides)), false, JSON.stringify(overrides).slice(0, 80));
  }
});

test("an issuer's key set, announced, passes the schema and lists scheduled keys too", async () => {
  const [a, b] = await Promise.all(
    [0, 1].map(async () => loadIssuerKey(generateIssuerKeyPem().privateKeyPem)),
  );
  const set = new IssuerKeySet([
    { key: a!, notBefore: NOW - 100, notAfter: NOW + 100 },
    { key: b!, notBefore: NOW + 50, notAfter: NOW + 5000 },
  ]);
  const m = issuerKeysMessage('issuer-1', 'issuer.splitrelay.test', NOW_MS + 7, set.announced(NOW));
  assert.ok(m);
  assert.deepEqual(issuerKeysMessageSchema.parse(m), m);
  assert.equal(m.sentAt, NOW_MS + 7);
  assert.deepEqual(
    m.keys.map((k) => [k.notBefore, k.notAfter]),
    [
      [NOW + 50, NOW + 5000],
      [NOW - 100, NOW + 100],
    ],
  );
  assert.equal(issuerKeysMessage('issuer-1', 'issuer.splitrelay.test', NOW_MS, []), undefined);
});

test('random JSON is never accepted and never makes the schema throw', () => {
  fc.assert(fc.property(fc.jsonValue(), (value) => assert.equal(accepts(value), false)));
});

let server: TestNatsServer;
let publisher: ControlPlaneClient;
let subscriber: ControlPlaneClient;
let baseline: string[] = [];
const handles = () => process.getActiveResourcesInfo().sort();

before(async () => {
  baseline = handles();
  server = await TestNatsServer.start('127.0.7.10');
  publisher = await connectControlPlane({ servers: server.url, name: 'issuer-1' });
  subscriber = await connectControlPlane({ servers: server.url, name: 'ingress-1' });
});

after(async () => {
  await publisher.close();
  await subscriber.close();
  await server.stop();
  await sleep(20);
  assert.deepEqual(handles(), baseline);
});

test('issuer keys round-trip over NATS, checked at both ends', async () => {
  const got: Array<Delivery<'issuer-keys'>> = [];
  const drops: DropReason[] = [];
  const sub = subscriber.subscribe('issuer-keys', (d) => got.push(d), {
    onDrop: (reason) => drops.push(reason),
  });
  assert.equal(sub.subject, ISSUER_KEYS_WILDCARD);
  await subscriber.flush();
  publisher.publish('issuer-keys', 'issuer-1', message());
  assert.throws(() => publisher.publish('issuer-keys', 'issuer-2', message()), RelayError);
  assert.throws(
    () => publisher.publish('issuer-keys', 'issuer-1', { ...message(), note: 'x' } as never),
    RelayError,
  );
  // Valid JSON on the subject, but for another issuer than the subject names.
  publisher.connection.publish(issuerKeysSubject('issuer-2'), JSON.stringify(message()));
  await publisher.flush();
  const deadline = Date.now() + 5000;
  while (got.length + drops.length < 2 && Date.now() < deadline) await sleep(10);
  assert.deepEqual(got, [{ family: 'issuer-keys', id: 'issuer-1', message: message() }]);
  assert.deepEqual(drops, ['id-mismatch']);
  sub.unsubscribe();
});
