import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCa, issueCert, selfSigned, type CertKeyPair } from '../src/index.ts';
import { assertNoLeakedHandles, startTlsServer, tlsRequest } from './helpers.ts';

let ca: CertKeyPair;
let serverCert: CertKeyPair;

before(async () => {
  ca = await createCa('tls-test-ca');
  serverCert = await issueCert(ca, {
    commonName: 'egress',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
});

after(assertNoLeakedHandles);

test('TLS 1.3 with an issued server certificate: the client trusting the CA accepts the IP SAN', async () => {
  const server = await startTlsServer({ cert: serverCert.certPem, key: serverCert.keyPem });
  const result = await tlsRequest({ host: '127.0.0.1', port: server.port, ca: [ca.certPem] });
  assert.equal(result.error, undefined);
  assert.equal(result.data, 'hello');
  const byName = await tlsRequest({
    host: '127.0.0.1',
    servername: 'localhost',
    port: server.port,
    ca: [ca.certPem],
  });
  assert.equal(byName.ok, true);
  await server.close();
});

test('the IP SAN is really checked, and so is the issuer', async () => {
  const server = await startTlsServer({ cert: serverCert.certPem, key: serverCert.keyPem }, '127.0.0.2');
  const wrongIp = await tlsRequest({ host: '127.0.0.2', port: server.port, ca: [ca.certPem] });
  assert.equal(wrongIp.error?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  const otherCa = await createCa('other-ca');
  const untrusted = await tlsRequest({
    host: '127.0.0.2',
    port: server.port,
    ca: [otherCa.certPem],
    checkServerIdentity: () => undefined,
  });
  assert.equal(untrusted.error?.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  await server.close();
});

test('usage is enforced: a client-only certificate cannot serve', async () => {
  const clientOnly = await issueCert(ca, { commonName: 'c', ipAddresses: ['127.0.0.1'], usage: 'client' });
  const server = await startTlsServer({ cert: clientOnly.certPem, key: clientOnly.keyPem });
  const result = await tlsRequest({ host: '127.0.0.1', port: server.port, ca: [ca.certPem] });
  assert.equal(result.error?.code, 'UNSUPPORTED_CERTIFICATE');
  await server.close();
});

test('mutual TLS: a self-signed client certificate is its own trust anchor in ca:', async () => {
  const client = await selfSigned({ commonName: 'ingress-1', usage: 'client' });
  const server = await startTlsServer({
    cert: serverCert.certPem,
    key: serverCert.keyPem,
    ca: [client.certPem],
    requestCert: true,
    rejectUnauthorized: true,
  });
  const result = await tlsRequest({
    host: '127.0.0.1',
    port: server.port,
    ca: [ca.certPem],
    cert: client.certPem,
    key: client.keyPem,
  });
  assert.equal(result.error, undefined);
  assert.equal(result.data, 'hello');
  assert.deepEqual(server.accepted, [{ authorized: true, peerCn: 'ingress-1' }]);
  await server.close();
});

test('mutual TLS both ways with self-signed certificates only', async () => {
  const egress = await selfSigned({ commonName: 'egress', ipAddresses: ['127.0.0.1'], usage: 'both' });
  const ingress = await selfSigned({ commonName: 'ingress', usage: 'both' });
  const server = await startTlsServer({
    cert: egress.certPem,
    key: egress.keyPem,
    ca: [ingress.certPem],
    requestCert: true,
    rejectUnauthorized: true,
  });
  const result = await tlsRequest({
    host: '127.0.0.1',
    port: server.port,
    ca: [egress.certPem],
    cert: ingress.certPem,
    key: ingress.keyPem,
  });
  assert.equal(result.ok, true);
  await server.close();
});

test('a client certificate not in ca: is refused during the handshake', async () => {
  const trustedClient = await selfSigned({ commonName: 'trusted', usage: 'client' });
  const stranger = await selfSigned({ commonName: 'stranger', usage: 'client' });
  const server = await startTlsServer({
    cert: serverCert.certPem,
    key: serverCert.keyPem,
    ca: [trustedClient.certPem],
    requestCert: true,
    rejectUnauthorized: true,
  });
  const result = await tlsRequest({
    host: '127.0.0.1',
    port: server.port,
    ca: [ca.certPem],
    cert: stranger.certPem,
    key: stranger.keyPem,
  });
  assert.equal(result.ok, false);
  assert.equal(result.data, '');
  // TLS 1.3 clients finish first, so they learn of the refusal from the server's alert.
  assert.match(String(result.error?.code), /ERR_SSL_TLSV1_ALERT_UNKNOWN_CA|ECONNRESET/);
  assert.deepEqual(server.accepted, []);
  assert.equal(server.clientErrors.length, 1);
  await server.close();
});
