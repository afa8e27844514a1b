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
import { RelayError } from '@splitrelay/errors';
import { once } from 'node:events';

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

/** Writes and waits for the echo, keeping the flow open. */
async function say(flow: import('node:stream').Duplex, text: string): Promise<string> {
  const echoed = once(flow, 'data') as Promise<[Buffer]>;
  flow.write(text);
  return (await echoed)[0].toString();
}

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
    // Read it, so that a clean end would show as one: a stream nobody reads never ends.
    const outcome = new Promise<{ how: 'end' | 'error' | 'close'; err?: unknown }>((resolve) => {
      open.once('end', () => resolve({ how: 'end' }));
      open.once('error', (err) => resolve({ how: 'error', err }));
      open.once('close', () => resolve({ how: 'close' }));
    });
    open.resume();
    assert.equal(await say(open, 'still open'), 'still open');

    const config = JSON.parse(
      readFileSync(join(world.deployment.dir, 'ingress.json'), 'utf8'),
    ) as Record<string, unknown>;
    await world.ingress.stop();
    const { how, err } = await outcome;
    assert.equal(how, 'error', 'the open flow failed, it did not end cleanly');
    assert.ok(err instanceof RelayError, `the flow failed with a reason: ${String(err)}`);

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
