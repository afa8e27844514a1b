import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSigned } from '@splitrelay/devcerts';
import { isRelayError } from '@splitrelay/errors';
import { IssuerClient } from '../src/issuer-client.ts';

async function issuerStub(body: (req: IncomingMessage) => Buffer) {
  const cert = await selfSigned({
    commonName: 'issuer.test',
    dnsNames: ['issuer.test'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(body(Object.assign(req, { body: Buffer.concat(chunks) }))));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}`, ca: cert.certPem, close: () => server.close() };
}

test('posts a body and returns status and bytes, on one kept-alive connection', async () => {
  const seen: string[] = [];
  const stub = await issuerStub((req) => {
    seen.push(`${req.method} ${req.url} ${req.socket.remotePort}`);
    return Buffer.from(`${req.method} ${(req as unknown as { body: Buffer }).body.length}`);
  });
  const client = new IssuerClient({ ca: stub.ca, servername: 'issuer.test', timeoutMs: 5000 });
  try {
    const a = await client.request(new URL('/d', stub.url), { headers: {} });
    const b = await client.request(new URL('/t', stub.url), {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(300),
    });
    assert.deepEqual([a.status, a.body.toString()], [200, 'GET 0']);
    assert.deepEqual([b.status, b.body.toString()], [200, 'POST 300']);
    const ports = seen.map((l) => l.split(' ')[2]);
    assert.equal(ports[0], ports[1], 'both requests on one connection');
  } finally {
    client.close();
    stub.close();
  }
});

test('an answer over 1 MiB and an unreachable issuer are auth-unavailable', async () => {
  const stub = await issuerStub(() => Buffer.alloc(1024 * 1024 + 1));
  const client = new IssuerClient({ ca: stub.ca, servername: 'issuer.test', timeoutMs: 5000 });
  try {
    await assert.rejects(
      client.request(new URL('/big', stub.url), { headers: {} }),
      (err) => isRelayError(err) && err.code === 'auth-unavailable' && /1 MiB/.test(err.message),
    );
    stub.close();
    await assert.rejects(
      client.request(new URL('/gone', 'https://127.0.0.1:1'), { headers: {} }),
      (err) => isRelayError(err) && err.code === 'auth-unavailable',
    );
  } finally {
    client.close();
    stub.close();
  }
});
