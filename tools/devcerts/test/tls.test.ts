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

test('TLS 1.3 with an issued server certificate: a client trusting the CA accepts the IP SAN', async (t) => {
  const server = await startTlsServer({ cert: serverCert.certPem, key: serverCert.keyPem });
  t.after(server.close);
  const byIp = await tlsRequest({ host: '127.0.0.1', port: server.port, ca: [ca.certPem] });
  assert.equal(byIp.error, undefined);
  assert.equal(byIp.data, 'hello');
  const byName = await tlsRequest({
    host: '127.0.0.1',
    servername: 'localhost',
    port: server.port,
    ca: [ca.certPem],
  });
  assert.equal(byName.ok, true);
});

test('the IP SAN is really checked, and so is the issuer', async (t) => {
  const server = await startTlsServer(
    { cert: serverCert.certPem, key: serverCert.keyPem },
    '127.0.0.2',
  );
  t.after(server.close);
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
});

test('usage is enforced: a client-only certificate cannot serve', async (t) => {
  const clientOnly = await issueCert(ca, {
    commonName: 'c',
    ipAddresses: ['127.0.0.1'],
    usage: 'client',
  });
  const server = await startTlsServer({ cert: clientOnly.certPem, key: clientOnly.keyPem });
  t.after(server.close);
  const result = await tlsRequest({ host: '127.0.0.1', port: server.port, ca: [ca.certPem] });
  assert.equal(result.error?.code, 'INVALID_PURPOSE');
});

test('mutual TLS: a self-signed client certificate is its own trust anchor in ca:', async (t) => {
  const client = await selfSigned({ commonName: 'ingress-1', usage: 'client' });
  const server = await startTlsServer({
    cert: serverCert.certPem,
    key: serverCert.keyPem,
    ca: [client.certPem],
    requestCert: true,
    rejectUnauthorized: true,
  });
  t.after(server.close);
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
});

test('mutual TLS both ways with self-signed certificates only', async (t) => {
  const egress = await selfSigned({
    commonName: 'egress',
    ipAddresses: ['127.0.0.1'],
    usage: 'both',
  });
  const ingress = await selfSigned({ commonName: 'ingress', usage: 'both' });
  const server = await startTlsServer({
    cert: egress.certPem,
    key: egress.keyPem,
    ca: [ingress.certPem],
    requestCert: true,
    rejectUnauthorized: true,
  });
  t.after(server.close);
  const result = await tlsRequest({
    host: '127.0.0.1',
    port: server.port,
    ca: [egress.certPem],
    cert: ingress.certPem,
    key: ingress.keyPem,
  });
  assert.equal(result.ok, true);
  assert.deepEqual(server.accepted, [{ authorized: true, peerCn: 'ingress' }]);
});

test('a client certificate not in ca: (or none) is refused during the handshake', async (t) => {
  const trustedClient = await selfSigned({ commonName: 'trusted', usage: 'client' });
  const stranger = await selfSigned({ commonName: 'stranger', usage: 'client' });
  const caIssued = await issueCert(ca, { commonName: 'issued', usage: 'client' });
  const server = await startTlsServer({
    cert: serverCert.certPem,
    key: serverCert.keyPem,
    ca: [trustedClient.certPem],
    requestCert: true,
    rejectUnauthorized: true,
  });
  t.after(server.close);
  const base = { host: '127.0.0.1', port: server.port, ca: [ca.certPem] };
  const results = [
    await tlsRequest({ ...base, cert: stranger.certPem, key: stranger.keyPem }),
    await tlsRequest({ ...base, cert: caIssued.certPem, key: caIssued.keyPem }),
    await tlsRequest(base),
  ];
  // A TLS 1.3 client finishes its side first, so it only sees the connection drop.
  for (const result of results) assert.deepEqual([result.ok, result.data], [false, '']);
  assert.deepEqual(server.accepted, []);
  assert.deepEqual(
    server.refused.map((r) => r.authorizationError),
    // The client sends its chain up to the CA it trusts, which the server does not.
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', undefined],
  );
  assert.equal(server.refused[2]?.error.code, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
});
