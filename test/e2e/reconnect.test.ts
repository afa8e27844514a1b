/**
 * One inner session carries every flow; when it dies (here: the ingress restarts), the next
 * flow opens a new session by itself, and flows on the dead session fail with a reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, type RunningApp } from '@splitrelay/local-deployment';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';

let world: World;
let echo: Awaited<ReturnType<typeof echoTarget>>;
let restarted: RunningApp | undefined;

before(async () => {
  world = await startWorld({ logLevel: 'info' });
  echo = await echoTarget(ADDR.target);
});
after(async () => {
  await restarted?.stop();
  await echo?.close();
  await world?.stop();
  await world?.cleanup();
});

async function roundTrip(flow: import('node:stream').Duplex, text: string): Promise<string> {
  flow.end(text);
  const chunks: Buffer[] = [];
  for await (const c of flow) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

test('a dead session is replaced on the next flow', { timeout: 30_000 }, async () => {
  const client = sdkClient(world);
  try {
    assert.equal(
      await roundTrip(await client.connect({ host: ADDR.target, port: echo.port }), 'one'),
      'one',
    );
    const open = await client.connect({ host: ADDR.target, port: echo.port });
    let openFailed = false;
    open.on('error', () => (openFailed = true));
    const closed = new Promise((resolve) => open.once('close', resolve));

    const config = JSON.parse(
      readFileSync(join(world.deployment.dir, 'ingress.json'), 'utf8'),
    ) as Record<string, unknown>;
    await world.ingress.stop();
    await closed;
    assert.ok(
      openFailed || open.readableAborted || !open.readableEnded,
      'the open flow ended abnormally',
    );

    restarted = await startApp(
      'ingress',
      await world.deployment.writeConfig('ingress-restarted', {
        ...config,
        listen: `${ADDR.ingress}:${world.ingressPort}`,
      }),
    );
    assert.equal(
      await roundTrip(await client.connect({ host: ADDR.target, port: echo.port }), 'two'),
      'two',
    );
    assert.deepEqual(client.sessions(), ['egress-1']);
  } finally {
    client.close();
  }
});
