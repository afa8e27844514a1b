/**
 * 200 concurrent flows, 1 MiB of random bytes each way, every byte checked by hash. The
 * target echoes and ends only after the client ended, so half-close is exercised on every
 * flow through both relays.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { assertNoLeakedHandles } from '@splitrelay/test-kit/handles';

const FLOWS = 200;
const BYTES = 1024 * 1024;

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

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function echoFlow(flow: Duplex, payload: Buffer): Promise<string> {
  const hash = createHash('sha256');
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    flow.on('data', (c: Buffer) => {
      hash.update(c);
      received += c.length;
    });
    flow.once('end', resolve);
    flow.once('error', reject);
  });
  // Written in pieces, honouring backpressure, then half-closed.
  for (let off = 0; off < payload.length; off += 64 * 1024) {
    if (!flow.write(payload.subarray(off, off + 64 * 1024)))
      await new Promise((r) => flow.once('drain', r));
  }
  flow.end();
  await done;
  assert.equal(received, payload.length);
  flow.destroy();
  return hash.digest('hex');
}

test(
  `${FLOWS} concurrent flows of 1 MiB each way, verified by hash, no leaked handles`,
  { timeout: 120_000 },
  async () => {
    const client = sdkClient(world);
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: FLOWS }, async () => {
        const payload = randomBytes(BYTES);
        const flow = await client.connect({ host: ADDR.target, port: echo.port });
        return { expected: sha(payload), got: await echoFlow(flow, payload) };
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    for (const r of results) assert.equal(r.got, r.expected);
    // Every flow shared one inner session: the ingress cannot even count them.
    assert.deepEqual(client.sessions(), ['egress-1']);
    assert.equal(echo.peers.length, FLOWS);
    assert.ok(
      echo.peers.every((p) => p === ADDR.egress(0)),
      'the target saw only the egress',
    );
    client.close();
    await assertNoLeakedHandles({ graceMs: 200 });
    console.log(
      `# ${FLOWS} × 2 MiB in ${seconds.toFixed(2)} s = ${((FLOWS * 2 * BYTES) / seconds / 1e6).toFixed(0)} MB/s`,
    );
  },
);
