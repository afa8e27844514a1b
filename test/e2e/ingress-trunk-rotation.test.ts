/**
 * The ingress operator rotates the ingress's trunk certificate: new files, then SIGHUP. The
 * ingress presents the new certificate on its next trunk connections at once, while sessions
 * already open keep flowing on the old one. Here the egress does not (yet) know the new
 * certificate, which is what makes the switch observable: new sessions are refused at the
 * trunk, the open session is not. (The overlap, both certificates admitted, is tested in
 * packages/hops/trunk/test/identity-rotation.test.ts.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { selfSigned } from '@splitrelay/devcerts';
import { RelayError } from '@splitrelay/errors';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';

let world: World;
let echo: Awaited<ReturnType<typeof echoTarget>>;

before(async () => {
  world = await startWorld({ logLevel: 'info' });
  echo = await echoTarget(ADDR.target);
});
after(async () => {
  await echo?.close();
  await world?.stop();
  await world?.cleanup();
});

async function say(flow: Duplex, text: string): Promise<string> {
  flow.write(text);
  const [chunk] = (await once(flow, 'data')) as [Buffer];
  return chunk.toString();
}

/** Ends a flow the way an application does: half-close, then read to the end. */
async function finish(flow: Duplex): Promise<void> {
  flow.end();
  for await (const chunk of flow) void chunk;
}

test(
  'SIGHUP switches the trunk certificate for new sessions only',
  { timeout: 30_000 },
  async () => {
    const open = sdkClient(world);
    const fresh = sdkClient(world);
    try {
      const flow = await open.connect({ host: ADDR.target, port: echo.port });
      assert.equal(await say(flow, 'before'), 'before');

      const next = await selfSigned({ commonName: 'ingress-trunk-next', usage: 'client' });
      writeFileSync(world.deployment.ingress.trunkCert, next.certPem);
      writeFileSync(world.deployment.ingress.trunkKey, next.keyPem);
      world.ingress.process.kill('SIGHUP');
      await world.ingress.waitFor('trunk identity reloaded', 5000);

      // A new session goes out with the new certificate, which this egress does not know: its
      // TLS server accepts only the certificates it knows, so the trunk handshake fails.
      await assert.rejects(
        fresh.connect({ host: ADDR.target, port: echo.port }),
        (err: unknown) => err instanceof RelayError && err.code === 'egress-unavailable',
      );
      const refused = await world.egresses[0]!.waitFor('trunk refused', 5000);
      assert.equal(refused.reason, 'trunk TLS handshake failed');

      // The session opened before keeps its trunk connection: its flow goes on, and so does a
      // new flow on it.
      assert.equal(await say(flow, 'after'), 'after');
      const second = await open.connect({ host: ADDR.target, port: echo.port });
      assert.equal(await say(second, 'again'), 'again');
      await finish(flow);
      await finish(second);
    } finally {
      open.close();
      fresh.close();
    }
  },
);
