/**
 * A client that goes away takes its flows with it: when the SDK closes its session (or the
 * client's connection drops) while a flow is open, the egress closes the flow's target socket
 * at once, rather than holding it (and its flow slot) until the idle timeout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';

let world: World;
let target: net.Server;
let port = 0;
/** Target sockets, with when each closed. */
const sockets: { socket: net.Socket; closedAt?: number }[] = [];

before(async () => {
  world = await startWorld({});
  target = net.createServer((socket) => {
    const entry: { socket: net.Socket; closedAt?: number } = { socket };
    sockets.push(entry);
    socket.on('error', () => {});
    socket.on('close', () => (entry.closedAt = Date.now()));
    socket.pipe(socket);
  });
  target.listen(0, ADDR.target);
  await once(target, 'listening');
  port = (target.address() as net.AddressInfo).port;
});
after(async () => {
  for (const { socket } of sockets) socket.destroy();
  await new Promise((r) => target.close(r));
  await world?.stop();
  await world?.cleanup();
});

async function openFlow(): Promise<{ close: () => void }> {
  const client = sdkClient(world);
  const flow = await client.connect({ host: ADDR.target, port });
  flow.write('ping');
  await once(flow, 'data');
  return { close: () => client.close() };
}

test(
  'closing the client closes its open flow at the target promptly',
  { timeout: 30_000 },
  async () => {
    const before = sockets.length;
    const { close } = await openFlow();
    assert.equal(sockets.length, before + 1, 'the flow reached the target');
    const entry = sockets.at(-1)!;
    const closedAt = Date.now();
    close();
    // The egress's idle timeout in the test world is far longer than this bound.
    const deadline = Date.now() + 5000;
    while (entry.closedAt === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(entry.closedAt !== undefined, 'the target socket was closed by the egress');
    assert.ok(entry.closedAt - closedAt < 5000);
  },
);
