import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createCa, issueCert, selfSigned } from '../src/index.ts';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

test('createCa makes a P-256 CA certificate with its PKCS#8 key', async () => {
  const ca = await createCa('demo-ca');
  const cert = new X509Certificate(ca.certPem);
  assert.equal(cert.subject, 'CN=demo-ca');
  assert.equal(cert.issuer, 'CN=demo-ca');
  assert.equal(cert.ca, true);
  assert.equal(cert.verify(cert.publicKey), true);
  assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  const key = createPrivateKey(ca.keyPem);
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(cert.checkPrivateKey(key), true);
});

test('issueCert: subject, SANs (127.x and IPv6 included), EKU and chain to the CA', async () => {
  const ca = await createCa('demo-ca');
  const leaf = await issueCert(ca, {
    commonName: 'ingress',
    dnsNames: ['ingress.local', 'localhost'],
    ipAddresses: ['127.0.0.2', '127.10.20.30', '::1'],
    usage: 'both',
    days: 3,
  });
  const cert = new X509Certificate(leaf.certPem);
  const caCert = new X509Certificate(ca.certPem);
  assert.equal(cert.subject, 'CN=ingress');
  assert.equal(cert.ca, false);
  assert.equal(
    cert.subjectAltName,
    'DNS:ingress.local, DNS:localhost, IP Address:127.0.0.2, IP Address:127.10.20.30, IP Address:0:0:0:0:0:0:0:1',
  );
  assert.deepEqual([...(cert.keyUsage ?? [])].sort(), [SERVER_AUTH, CLIENT_AUTH]);
  assert.equal(cert.checkIssued(caCert), true);
  assert.equal(cert.verify(caCert.publicKey), true);
  assert.equal(cert.checkIP('127.10.20.30'), '127.10.20.30');
  assert.equal(cert.checkIP('127.0.0.3'), undefined);
  assert.equal(cert.checkPrivateKey(createPrivateKey(leaf.keyPem)), true);
  const lifetimeDays = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
  assert.ok(lifetimeDays > 3 && lifetimeDays < 3.1, String(lifetimeDays));
});

test('usage picks the extended key usage', async () => {
  const ca = await createCa('demo-ca');
  const server = new X509Certificate(
    (await issueCert(ca, { commonName: 's', usage: 'server' })).certPem,
  );
  const client = new X509Certificate(
    (await selfSigned({ commonName: 'c', usage: 'client' })).certPem,
  );
  assert.deepEqual(server.keyUsage, [SERVER_AUTH]);
  assert.deepEqual(client.keyUsage, [CLIENT_AUTH]);
  assert.equal(server.subjectAltName, undefined);
});

test('selfSigned is its own issuer and not a CA', async () => {
  const leaf = await selfSigned({
    commonName: 'ingress-client',
    ipAddresses: ['127.0.0.1'],
    usage: 'client',
  });
  const cert = new X509Certificate(leaf.certPem);
  assert.equal(cert.ca, false);
  assert.equal(cert.checkIssued(cert), true);
  assert.equal(cert.verify(cert.publicKey), true);
});

test('an injected now sets the validity window', async () => {
  const now = new Date('2020-01-01T00:00:00Z');
  const leaf = await selfSigned({ commonName: 'old', usage: 'server', days: 1, now });
  const cert = new X509Certificate(leaf.certPem);
  assert.equal(cert.validFromDate.toISOString(), '2019-12-31T23:00:00.000Z');
  assert.equal(cert.validToDate.toISOString(), '2020-01-02T00:00:00.000Z');
});

test('names that are not names, and a CA key from elsewhere, are refused', async () => {
  const ca = await createCa('demo-ca');
  const other = await createCa('other');
  await assert.rejects(
    issueCert(ca, { commonName: 'x', ipAddresses: ['127.0.0.256'], usage: 'server' }),
    TypeError,
  );
  await assert.rejects(
    issueCert(ca, { commonName: 'x', dnsNames: ['bad name'], usage: 'server' }),
    TypeError,
  );
  await assert.rejects(issueCert(ca, { commonName: '', usage: 'server' }), TypeError);
  await assert.rejects(issueCert(ca, { commonName: 'x', usage: 'server', days: 0 }), TypeError);
  await assert.rejects(
    issueCert({ certPem: ca.certPem, keyPem: other.keyPem }, { commonName: 'x', usage: 'server' }),
    TypeError,
  );
});

test('a common name with DN syntax in it stays one common name', async () => {
  const leaf = await selfSigned({ commonName: 'a, O=evil+CN=b', usage: 'client' });
  const cert = new X509Certificate(leaf.certPem);
  assert.equal(cert.subject, 'CN=a\\, O=evil\\+CN=b');
  assert.deepEqual({ ...cert.toLegacyObject().subject }, { CN: 'a, O=evil+CN=b' });
});
