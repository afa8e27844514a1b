/**
 * The WebSocket carrier: the same two-hop tunnel for networks that pass only WebSocket.
 * curl through a client configured for it, and the refusals keep their status and reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import { RelayError } from '@splitrelay/errors';
import { openOuterTunnel } from '@splitrelay/outer-hop';
import {
  ADDR,
  INGRESS_NAME,
  startWorld,
  type World,
  worldHttpsTarget,
} from '@splitrelay/test-kit/world';
import type { Listening } from '@splitrelay/test-kit/targets';
import { run } from '@splitrelay/test-kit/run';

let world: World;
let target: Listening<https.Server>;

before(async () => {
  world = await startWorld({ logLevel: 'info' });
  target = await worldHttpsTarget(world);
});
after(async () => {
  await target?.close();
  await world?.stop();
  await world?.cleanup();
});

test('curl through a client whose outer hop is a WebSocket', { timeout: 30_000 }, async () => {
  const { startApp } = await import('@splitrelay/local-deployment');
  const config = {
    ...world.clientConfig,
    ingress: { ...(world.clientConfig.ingress as object), carrier: 'websocket' },
  };
  const client = await startApp('client', await world.deployment.writeConfig('client-ws', config));
  try {
    const socks = String(client.ready.socks);
    const res = await run('curl', [
      '--silent',
      '--show-error',
      '--max-time',
      '15',
      '--cacert',
      world.deployment.caCert,
      '--proxy',
      socks,
      `https://${ADDR.target}:${target.port}/`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /hello from the target/);
  } finally {
    await client.stop();
  }
});

test(
  'a WebSocket tunnel to an unknown egress is refused with 403 and a reason',
  { timeout: 30_000 },
  async () => {
    await assert.rejects(
      openOuterTunnel({
        ingress: {
          host: ADDR.ingress,
          port: world.ingressPort,
          servername: INGRESS_NAME,
          ca: readFileSync(world.deployment.caCert, 'utf8'),
        },
        egressId: 'nope',
        handshakeTimeoutMs: 5000,
        carrier: 'websocket',
      }),
      (err: unknown) =>
        err instanceof RelayError && err.status === 403 && err.proxyError === 'http_request_denied',
    );
  },
);
