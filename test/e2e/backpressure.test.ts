/**
 * Backpressure through bounded buffers, end to end: a client writes as fast as its flow lets
 * it towards a target that reads nothing. The bytes the client got to write before the flow
 * stopped taking more are bounded by the buffers of the path (h2 windows, stream buffers,
 * the kernel's socket buffer maxima), so no relay holds an unbounded queue; once the target
 * reads, every byte arrives, in order. The measurement's own control: the same writer on a
 * stream with no bound reaches the cap.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import { H2_WINDOW_BYTES, HIGH_WATER_MARK_BYTES } from '@splitrelay/transport';
import type { SplitRelayClient } from '@splitrelay/sdk';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';

const MiB = 1024 * 1024;
const kernelMax = (file: string): number =>
  Number(readFileSync(file, 'utf8').trim().split(/\s+/).pop());

/**
 * What the path may hold, generously: the inner stream's window and the trunk stream's, a
 * stream buffer at each of the eight streams a byte crosses (SDK flow, inner h2 stream, outer
 * TLS, ingress splice both sides, trunk stream, egress inner stream, target socket), and on
 * each of the three TCP hops a send and a receive buffer at the kernel's maxima.
 */
const BOUND =
  2 * H2_WINDOW_BYTES +
  8 * HIGH_WATER_MARK_BYTES +
  3 * (kernelMax('/proc/sys/net/ipv4/tcp_wmem') + kernelMax('/proc/sys/net/ipv4/tcp_rmem'));
/** The writer stops here: past the bound, the path would be holding what it must not. */
const CAP = BOUND + 16 * MiB;
const CHUNK = 64 * 1024;

/**
 * Writes random chunks while the stream takes them; waits for 'drain' when it does not, and
 * stops once `stallMs` pass without one, or at the cap. Slowness can only stop it earlier.
 */
async function writeUntilStalled(
  stream: Duplex,
  hash: ReturnType<typeof createHash>,
  stallMs: number,
): Promise<{ written: number; stalled: boolean }> {
  let written = 0;
  while (written < CAP) {
    const chunk = randomBytes(CHUNK);
    hash.update(chunk);
    written += chunk.length;
    if (stream.write(chunk)) continue;
    const drained = await Promise.race([
      once(stream, 'drain').then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), stallMs).unref()),
    ]);
    if (!drained) return { written, stalled: true };
  }
  return { written, stalled: false };
}

let world: World;
let client: SplitRelayClient;
let target: net.Server;
let held: Promise<net.Socket>;

before(async () => {
  world = await startWorld({ logLevel: 'info' });
  client = sdkClient(world);
  target = net.createServer();
  held = new Promise((resolve) =>
    target.once('connection', (socket) => {
      // Reads nothing until the test says so.
      socket.pause();
      resolve(socket);
    }),
  );
  target.listen(0, ADDR.target);
  await once(target, 'listening');
});
after(async () => {
  client?.close();
  target?.close();
  await world?.stop();
  await world?.cleanup();
});

test(
  'a flow to a target that reads nothing stops taking bytes within the bounds of its path',
  { timeout: 120_000 },
  async () => {
    const port = (target.address() as net.AddressInfo).port;
    const flow = await client.connect({ host: ADDR.target, port });
    const socket = await held;
    const sent = createHash('sha256');
    const { written, stalled } = await writeUntilStalled(flow, sent, 3000);
    console.log(
      `# backpressure: ${(written / MiB).toFixed(1)} MiB taken before the flow stopped (bound ${(BOUND / MiB).toFixed(0)} MiB)`,
    );
    assert.ok(stalled, `the flow took ${written} bytes, up to the cap, without stopping`);
    assert.ok(written <= BOUND, `${written} bytes in flight, over the bound of ${BOUND}`);
    assert.ok(written > HIGH_WATER_MARK_BYTES, 'the path carried bytes before it stopped');

    // The target reads again: every byte arrives, in order, and the flow ends.
    const got = createHash('sha256');
    let received = 0;
    socket.on('data', (c: Buffer) => {
      got.update(c);
      received += c.length;
    });
    const ended = once(socket, 'end');
    socket.resume();
    flow.end();
    await ended;
    socket.end();
    assert.equal(received, written);
    assert.equal(got.digest('hex'), sent.digest('hex'));
  },
);

test('control: the same writer on a stream with no bound runs to the cap', async () => {
  // A stream that says yes to every write, as an unbounded queue in a relay would.
  const unbounded = new PassThrough({ highWaterMark: CAP * 2 });
  const { written, stalled } = await writeUntilStalled(unbounded, createHash('sha256'), 3000);
  assert.equal(stalled, false);
  assert.ok(written >= CAP && written > BOUND);
  unbounded.destroy();
});
