import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCert, selfSigned, type CertKeyPair } from '../src/index.ts';
import { assertNoLeakedHandles } from './helpers.ts';

const CURL = '/usr/bin/curl';

let dir: string;
let ca: CertKeyPair;
let server: CertKeyPair;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'devcerts-curl-'));
  ca = await createCa('curl-test-ca');
  server = await issueCert(ca, {
    commonName: 'egress',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  await writeFile(join(dir, 'ca.crt'), ca.certPem);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
  await assertNoLeakedHandles();
});

interface CurlResult {
  readonly exitCode: number;
  readonly stdout: string;
}

/** Runs curl asynchronously: the server it talks to lives in this same event loop. */
function curl(args: readonly string[]): Promise<CurlResult> {
  // -q first: ignore any ~/.curlrc; --noproxy: never leave loopback through a proxy.
  const all = ['-q', '--silent', '--max-time', '10', '--noproxy', '*', ...args];
  return new Promise((resolve) => {
    execFile(CURL, all, (error, stdout) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ exitCode: code, stdout });
    });
  });
}

async function startHttps(options: https.ServerOptions): Promise<{ port: number; close(): void }> {
  const srv = https.createServer({ minVersion: 'TLSv1.3', ...options }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.end(`hello ${(peer.subject?.CN as string | undefined) ?? 'anonymous'}`);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => {
      srv.closeAllConnections();
      srv.close();
    },
  };
}

test('curl --cacert accepts the issued certificate by IP and by DNS name', async (t) => {
  const srv = await startHttps({ cert: server.certPem, key: server.keyPem });
  t.after(srv.close);
  const byIp = await curl(['--cacert', join(dir, 'ca.crt'), `https://127.0.0.1:${srv.port}/`]);
  assert.deepEqual(byIp, { exitCode: 0, stdout: 'hello anonymous' });
  const byName = await curl([
    '--cacert',
    join(dir, 'ca.crt'),
    '--resolve',
    `localhost:${srv.port}:127.0.0.1`,
    `https://localhost:${srv.port}/`,
  ]);
  assert.deepEqual(byName, { exitCode: 0, stdout: 'hello anonymous' });
});

test('curl really verifies: without the CA it refuses (exit 60)', async (t) => {
  const srv = await startHttps({ cert: server.certPem, key: server.keyPem });
  t.after(srv.close);
  const otherCa = await createCa('not-the-ca');
  await writeFile(join(dir, 'other.crt'), otherCa.certPem);
  const result = await curl(['--cacert', join(dir, 'other.crt'), `https://127.0.0.1:${srv.port}/`]);
  assert.equal(result.exitCode, 60);
});

test('curl presents a self-signed client certificate for mutual TLS', async (t) => {
  const client = await selfSigned({ commonName: 'curl-client', usage: 'client' });
  await writeFile(join(dir, 'client.crt'), client.certPem);
  await writeFile(join(dir, 'client.key'), client.keyPem, { mode: 0o600 });
  const srv = await startHttps({
    cert: server.certPem,
    key: server.keyPem,
    ca: [client.certPem],
    requestCert: true,
    rejectUnauthorized: true,
  });
  t.after(srv.close);
  const result = await curl([
    '--cacert',
    join(dir, 'ca.crt'),
    '--cert',
    join(dir, 'client.crt'),
    '--key',
    join(dir, 'client.key'),
    `https://127.0.0.1:${srv.port}/`,
  ]);
  assert.deepEqual(result, { exitCode: 0, stdout: 'hello curl-client' });
  const without = await curl(['--cacert', join(dir, 'ca.crt'), `https://127.0.0.1:${srv.port}/`]);
  assert.notEqual(without.exitCode, 0);
});
