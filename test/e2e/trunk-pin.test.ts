/**
 * The ingress authenticates each egress by the key pinned in the signed directory. An egress
 * (or anyone on the path) presenting another key is refused with a reason, and the ingress
 * stays up for everyone else.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RelayError } from '@splitrelay/errors';
import { spkiPin } from '@splitrelay/directory';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';

let world: World;
let echo: Awaited<ReturnType<typeof echoTarget>>;

before(async () => {
  world = await startWorld({ egresses: 2 });
  echo = await echoTarget(ADDR.target);
});
after(async () => {
  await echo?.close();
  await world?.stop();
  await world?.cleanup();
});

test(
  'a wrong trunk key is refused with 502 tls_certificate_error; the ingress keeps serving',
  { timeout: 30_000 },
  async () => {
    // The ingress's copy of the directory pins egress-1 to egress-2's key.
    const now = Math.floor(Date.now() / 1000);
    const wrongPin = spkiPin(readFileSync(world.deployment.egress['egress-2']!.cert, 'utf8'));
    const rightPin = spkiPin(readFileSync(world.deployment.egress['egress-1']!.cert, 'utf8'));
    const file = await world.deployment.signDirectory(
      [
        {
          id: 'egress-1',
          endpoint: String(world.egresses[0]!.ready.listen),
          region: 'eu',
          tlsPins: [wrongPin],
          notBefore: now - 60,
          notAfter: now + 3600,
          version: now + 1,
        },
        {
          id: 'egress-2',
          endpoint: String(world.egresses[1]!.ready.listen),
          region: 'us',
          tlsPins: [wrongPin],
          notBefore: now - 60,
          notAfter: now + 3600,
          version: now + 1,
        },
      ],
      join(world.deployment.dir, 'ingress-directory.json'),
    );
    await world.ingress.stop();
    const { startApp } = await import('@splitrelay/local-deployment');
    const config = JSON.parse(
      readFileSync(join(world.deployment.dir, 'ingress.json'), 'utf8'),
    ) as Record<string, unknown>;
    const port = world.ingressPort;
    const ingress = await startApp(
      'ingress',
      await world.deployment.writeConfig('ingress-wrong-pin', {
        ...config,
        listen: `${ADDR.ingress}:${port}`,
        directory: { ...(config.directory as object), file },
      }),
    );
    try {
      const client = sdkClient(world, { preference: { egressId: 'egress-1' } });
      await assert.rejects(
        client.connect({ host: ADDR.target, port: echo.port }),
        (err: unknown) => {
          assert.ok(err instanceof RelayError);
          assert.equal(err.status, 502);
          assert.equal(err.proxyError, 'tls_certificate_error');
          return true;
        },
      );
      client.close();
      assert.notEqual(wrongPin, rightPin);
      // egress-2 really has the pinned key: it still works through the same ingress.
      const other = sdkClient(world, { preference: { egressId: 'egress-2' } });
      const flow = await other.connect({ host: ADDR.target, port: echo.port });
      flow.end('ping');
      const chunks: Buffer[] = [];
      for await (const c of flow) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'ping');
      other.close();
      assert.equal(ingress.process.exitCode, null);
    } finally {
      await ingress.stop();
    }
  },
);
