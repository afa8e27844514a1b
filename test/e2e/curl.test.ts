/**
 * A real client (curl) through both relays to an HTTPS target on loopback. curl checks the
 * target's certificate against the local CA: that proves the relays carried the end-to-end
 * TLS and terminated none of it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADDR,
  TARGET_NAME,
  startWorld,
  type World,
  worldHttpsTarget,
} from '@splitrelay/test-kit/world';
import type { Listening } from '@splitrelay/test-kit/targets';
import { run } from '@splitrelay/test-kit/run';
import type https from 'node:https';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fetch } from 'undici';
import { createDispatcher } from '@splitrelay/sdk/dispatcher';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';

let world: World;
let target: Listening<https.Server>;

before(async () => {
  world = await startWorld();
  target = await worldHttpsTarget(world);
});
after(async () => {
  await target?.close();
  await world?.stop();
  await world?.cleanup();
});

const curlBase = (): string[] => [
  '--silent',
  '--show-error',
  '--max-time',
  '15',
  '--cacert',
  world.deployment.caCert,
];

test(
  'curl through the SOCKS5 proxy (socks5h: the name goes to the egress)',
  { timeout: 30_000 },
  async () => {
    const res = await run('curl', [
      ...curlBase(),
      '--proxy',
      `socks5h://127.0.0.1:${world.socksPort}`,
      '--resolve',
      `${TARGET_NAME}:${target.port}:${ADDR.target}`,
      '--include',
      `https://${ADDR.target}:${target.port}/`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /hello from the target/);
    // The target saw the egress's address, not the client's or the ingress's.
    assert.match(res.stdout, /x-seen-peer: 127\.0\.3\.1/i);
  },
);

test(
  'curl through the HTTP proxy (CONNECT) verifies the target certificate',
  { timeout: 30_000 },
  async () => {
    const res = await run('curl', [
      ...curlBase(),
      '--proxy',
      `http://127.0.0.1:${world.httpPort}`,
      `https://${ADDR.target}:${target.port}/`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /hello from the target/);
  },
);

test(
  'curl refuses a target certificate the CA did not issue (the check can fail)',
  { timeout: 30_000 },
  async () => {
    const res = await run('curl', [
      '--silent',
      '--max-time',
      '15',
      '--cacert',
      world.deployment.ingress.trunkCert,
      '--proxy',
      `http://127.0.0.1:${world.httpPort}`,
      `https://${ADDR.target}:${target.port}/`,
    ]);
    assert.equal(res.code, 60, `curl should fail certificate verification, got ${res.code}`);
  },
);

test('fetch() through both relays with the SDK dispatcher', { timeout: 30_000 }, async () => {
  const client = sdkClient(world);
  const dispatcher = createDispatcher(client.connect, {
    ca: readFileSync(world.deployment.caCert, 'utf8'),
  });
  try {
    const res = await fetch(`https://${TARGET_NAME}:${target.port}/`, { dispatcher });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello from the target\n');
    assert.equal(res.headers.get('x-seen-peer'), ADDR.egress(0));
  } finally {
    await dispatcher.close();
    client.close();
  }
});

test('plain http:// in absolute form through the HTTP proxy', { timeout: 30_000 }, async () => {
  const plain = http.createServer((req, res) =>
    res.end(`plain ${req.method} ${req.url} from ${req.socket.remoteAddress}`),
  );
  await new Promise<void>((r) => plain.listen(0, ADDR.target, () => r()));
  const { port } = plain.address() as AddressInfo;
  try {
    const res = await run('curl', [
      '--silent',
      '--show-error',
      '--max-time',
      '15',
      '--proxy',
      `http://127.0.0.1:${world.httpPort}`,
      `http://${ADDR.target}:${port}/path?q=1`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `plain GET /path?q=1 from ${ADDR.egress(0)}`);
  } finally {
    plain.closeAllConnections();
    await new Promise<void>((r) => plain.close(() => r()));
  }
});
