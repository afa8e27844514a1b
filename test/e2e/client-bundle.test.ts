/**
 * The client app as shipped (apps/client/dist, `pnpm run build`): one bundle plus chunks
 * loaded on demand. The same curl runs as through the sources, with Privacy Pass on, over
 * each path whose code lives in a chunk of its own (the WebSocket carrier, the HTTP proxy's
 * absolute-form forwarding through undici) and over SOCKS5, which must not need them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import { startApp } from '@splitrelay/local-deployment';
import { CLIENT_BUNDLE, bundleClient } from '@splitrelay/client-app/bundle';
import { ADDR, startWorld, type World, worldHttpsTarget } from '@splitrelay/test-kit/world';
import type { Listening } from '@splitrelay/test-kit/targets';
import { run } from '@splitrelay/test-kit/run';

let world: World;
let target: Listening<https.Server>;

before(async () => {
  // `pnpm test` builds first; a single file run builds here.
  if (!existsSync(CLIENT_BUNDLE)) await bundleClient();
  world = await startWorld({ privacyPass: true, clientMain: CLIENT_BUNDLE });
  target = await worldHttpsTarget(world);
});
after(async () => {
  await target?.close();
  await world?.stop();
  await world?.cleanup();
});

const curl = (proxy: string, url: string, ca = true) =>
  run('curl', [
    '--silent',
    '--show-error',
    '--max-time',
    '15',
    ...(ca ? ['--cacert', world.deployment.caCert] : []),
    '--proxy',
    proxy,
    url,
  ]);

test('the bundled client relays curl over SOCKS5 and the HTTP proxy, paying with tokens', async () => {
  assert.equal(world.client.process.spawnargs.at(-3), CLIENT_BUNDLE, 'the world runs the bundle');
  // The ingress takes no session without a token (privacyPass): a 200 through it is a paid one.
  for (const proxy of [
    `socks5h://127.0.0.1:${world.socksPort}`,
    `http://127.0.0.1:${world.httpPort}`,
  ]) {
    const res = await curl(proxy, `https://${ADDR.target}:${target.port}/`);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /hello from the target/);
  }
});

test('the bundled client forwards absolute-form http:// (undici, loaded on first use)', async () => {
  const plain = http.createServer((req, res) => res.end(`plain ${req.url}`));
  await new Promise<void>((r) => plain.listen(0, ADDR.target, () => r()));
  try {
    const { port } = plain.address() as AddressInfo;
    const res = await curl(
      `http://127.0.0.1:${world.httpPort}`,
      `http://${ADDR.target}:${port}/x?y=1`,
      false,
    );
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'plain /x?y=1');
  } finally {
    plain.close();
  }
});

test('the bundled client carries its outer hop over a WebSocket (ws, loaded on first use)', async () => {
  const config = {
    ...world.clientConfig,
    ingress: { ...(world.clientConfig.ingress as object), carrier: 'websocket' },
  };
  const client = await startApp('client', await world.deployment.writeConfig('client-ws', config), {
    main: CLIENT_BUNDLE,
  });
  try {
    const res = await curl(String(client.ready.socks), `https://${ADDR.target}:${target.port}/`);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /hello from the target/);
  } finally {
    await client.stop();
  }
});
