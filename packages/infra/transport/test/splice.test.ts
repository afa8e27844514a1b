import { test } from 'node:test';
// Each test bounds itself; a hang is a failure, not a stuck CI.
const opts = { timeout: 10_000 };
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { splice, type SpliceStats } from '../src/index.ts';

/** A pair of real TCP sockets: returns [client side, server side]. */
async function socketPair(): Promise<[net.Socket, net.Socket, net.Server]> {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const [accepted] = (await once(server, 'connection')) as [net.Socket];
  await once(client, 'connect');
  return [client, accepted, server];
}

test('bytes flow both ways, half-close propagates, and the stats count them', opts, async () => {
  const [left, leftInner, s1] = await socketPair();
  const [rightInner, right, s2] = await socketPair();
  const done = new Promise<SpliceStats>((resolve) =>
    splice(leftInner, rightInner, { onDone: resolve }),
  );

  // right echoes, and ends only after the other side ended (half-close).
  right.pipe(right);
  const payload = randomBytes(3 * 1024 * 1024 + 7);
  const chunks: Buffer[] = [];
  left.on('data', (c: Buffer) => chunks.push(c));
  left.end(payload);
  await once(left, 'end');
  const got = Buffer.concat(chunks);
  assert.equal(
    createHash('sha256').update(got).digest('hex'),
    createHash('sha256').update(payload).digest('hex'),
  );
  left.destroy();
  const stats = await done;
  assert.equal(stats.aToB, payload.length);
  assert.equal(stats.bToA, payload.length);
  assert.equal(stats.aborted, false);
  s1.close();
  s2.close();
});

test('an abort on one side destroys the other', opts, async () => {
  const [left, leftInner, s1] = await socketPair();
  const [rightInner, right, s2] = await socketPair();
  const done = new Promise<SpliceStats>((resolve) =>
    splice(leftInner, rightInner, { onDone: resolve }),
  );
  left.on('error', () => {});
  left.resume();
  right.resetAndDestroy();
  const stats = await done;
  assert.equal(stats.aborted, true);
  // The surviving client sees its connection end instead of hanging open.
  await once(left, 'end');
  left.destroy();
  s1.close();
  s2.close();
});

test('idle timeout destroys both sides', opts, async () => {
  const [left, leftInner, s1] = await socketPair();
  const [rightInner, right, s2] = await socketPair();
  let idle = false;
  const done = new Promise<SpliceStats>((resolve) =>
    splice(leftInner, rightInner, {
      idleTimeoutMs: 50,
      onIdle: () => (idle = true),
      onDone: resolve,
    }),
  );
  left.on('error', () => {});
  right.on('error', () => {});
  const stats = await done;
  assert.equal(idle, true);
  assert.equal(stats.aborted, true);
  left.destroy();
  right.destroy();
  s1.close();
  s2.close();
});
