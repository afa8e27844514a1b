/**
 * UDP through both hops (CONNECT-UDP, RFC 9298): 1,000 datagrams of random sizes to an echo
 * target, every payload verified, loss and reordering reported; refusals carry the same
 * reasons as TCP.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import {
  CapsuleParser,
  decodeUdpPayload,
  encodeDatagramCapsule,
  formatUdpPath,
} from '@splitrelay/connect-udp';
import { once } from 'node:events';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { RelayError } from '@splitrelay/errors';
import type { SplitRelayClient } from '@splitrelay/sdk';
import { ADDR, rawInnerTls, startWorld, type World } from '@splitrelay/test-kit/world';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { eventually } from '@splitrelay/test-kit/eventually';

const COUNT = 1000;
const MAX_PAYLOAD = 1400;

let world: World;
let echo: dgram.Socket;
let echoPort: number;
let client: SplitRelayClient;
const echoPeers = new Set<string>();
/** Every datagram the target received, by sequence number: an amplified one counts twice. */
const atTarget: number[] = [];

/** Counts by sequence number: how many distinct ones, and how many arrived more than once. */
function tally(seqs: readonly number[]): { total: number; distinct: number; duplicates: number } {
  const distinct = new Set(seqs).size;
  return { total: seqs.length, distinct, duplicates: seqs.length - distinct };
}

before(async () => {
  world = await startWorld({ logLevel: 'info' });
  echo = dgram.createSocket('udp4');
  echo.on('message', (msg, rinfo) => {
    echoPeers.add(rinfo.address);
    if (msg.length >= 4) atTarget.push(msg.readUInt32BE(0));
    echo.send(msg, rinfo.port, rinfo.address);
  });
  echo.bind(0, ADDR.target);
  await once(echo, 'listening');
  echoPort = echo.address().port;
  client = sdkClient(world);
});
after(async () => {
  client?.close();
  echo?.close();
  await world?.stop();
  await world?.cleanup();
});

test(
  `${COUNT} datagrams of random sizes echo back intact through both relays`,
  { timeout: 60_000 },
  async () => {
    const flow = await client.openUdp({ host: ADDR.target, port: echoPort });
    const sent = new Map<number, string>();
    const order: number[] = [];
    let corrupt = 0;
    flow.on('datagram', (payload) => {
      const seq = payload.readUInt32BE(0);
      if (sent.get(seq) !== createHash('sha256').update(payload).digest('hex')) corrupt++;
      order.push(seq);
    });
    // A window of datagrams in flight, so a busy machine's socket buffers are not what is
    // measured; a window that does not drain in time moves on (and counts as loss).
    const WINDOW = 32;
    for (let seq = 0; seq < COUNT; seq++) {
      const payload = randomBytes(randomInt(4, MAX_PAYLOAD + 1));
      payload.writeUInt32BE(seq, 0);
      sent.set(seq, createHash('sha256').update(payload).digest('hex'));
      flow.send(payload);
      const waitUntil = Date.now() + 2000;
      while (seq + 1 - order.length >= WINDOW && Date.now() < waitUntil)
        await new Promise((r) => setTimeout(r, 2));
    }
    const deadline = Date.now() + 10_000;
    while (order.length < COUNT && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const back = tally(order);
    const there = tally(atTarget);
    const lost = COUNT - back.distinct;
    const reordered = order.filter((seq, i) => i > 0 && seq < order[i - 1]!).length;
    console.log(
      `# UDP: ${COUNT} sent, ${there.total} reached the target, ${order.length} received, ${lost} lost, ${reordered} reordered, ${corrupt} corrupt`,
    );
    assert.equal(corrupt, 0);
    // Never amplified: one datagram in is at most one datagram out, towards the target and
    // back. Every arrival is counted, so a duplicate would show (the control below shows one).
    assert.equal(there.duplicates, 0, `${there.duplicates} datagrams reached the target twice`);
    assert.ok(there.total <= COUNT);
    assert.equal(back.duplicates, 0, `${back.duplicates} echoes arrived twice`);
    // Loopback UDP should lose nothing at this pace; allow a little for a loaded CI machine.
    assert.ok(lost <= COUNT * 0.01, `${lost} datagrams lost`);
    assert.deepEqual([...echoPeers], [ADDR.egress(0)], 'the target saw only the egress');
    flow.close();
  },
);

test(
  'negative control: a target that answers twice is seen twice (the count catches duplicates)',
  { timeout: 30_000 },
  async () => {
    const doubling = dgram.createSocket('udp4');
    doubling.on('message', (msg, rinfo) => {
      doubling.send(msg, rinfo.port, rinfo.address);
      doubling.send(msg, rinfo.port, rinfo.address);
    });
    doubling.bind(0, ADDR.target);
    await once(doubling, 'listening');
    const flow = await client.openUdp({ host: ADDR.target, port: doubling.address().port });
    const back: number[] = [];
    flow.on('datagram', (p: Buffer) => back.push(p.readUInt32BE(0)));
    try {
      const SENT = 50;
      for (let seq = 0; seq < SENT; seq++) {
        const payload = Buffer.alloc(64);
        payload.writeUInt32BE(seq, 0);
        flow.send(payload);
        // One at a time, so what is measured is the relay's faithfulness, not buffers.
        await eventually(`the answers to ${seq}`, () => back.filter((s) => s === seq).length >= 2, {
          timeoutMs: 5000,
          intervalMs: 5,
        });
      }
      assert.equal(tally(back).duplicates, SENT);
    } finally {
      flow.close();
      doubling.close();
    }
  },
);

test(
  'a UDP target outside the allowlist is refused with destination_ip_prohibited',
  { timeout: 30_000 },
  async () => {
    await assert.rejects(client.openUdp({ host: ADDR.ingress, port: 53 }), (err: unknown) => {
      assert.ok(err instanceof RelayError);
      assert.equal(err.status, 403);
      assert.equal(err.proxyError, 'destination_ip_prohibited');
      return true;
    });
  },
);

test('TCP and UDP flows share one inner session', { timeout: 30_000 }, () => {
  assert.deepEqual(client.sessions(), ['egress-1']);
});

test(
  'the HTTP/1.1 form (GET with Upgrade: connect-udp) works too',
  { timeout: 30_000 },
  async () => {
    const socket = await rawInnerTls(world, 'http/1.1');
    assert.equal(socket.alpnProtocol, 'http/1.1');
    let received = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => (received = Buffer.concat([received, c])));
    socket.write(
      `GET ${formatUdpPath({ host: ADDR.target, port: echoPort })} HTTP/1.1\r\nHost: egress-1:443\r\n` +
        'Connection: Upgrade\r\nUpgrade: connect-udp\r\nCapsule-Protocol: ?1\r\n\r\n',
    );
    const waitFor = (what: string, check: () => boolean): Promise<true> =>
      eventually(() => `${what}; got ${received.toString('latin1')}`, check, {
        timeoutMs: 5000,
        intervalMs: 20,
      });
    await waitFor('the response head', () => received.includes('\r\n\r\n'));
    const headEnd = received.indexOf('\r\n\r\n') + 4;
    assert.match(received.subarray(0, headEnd).toString(), /^HTTP\/1\.1 101 /);
    received = received.subarray(headEnd);
    const capsules: Buffer[] = [];
    const parser = new CapsuleParser({
      onCapsule: (type, value) => type === 0 && capsules.push(Buffer.from(value)),
    });
    socket.on('data', (c: Buffer) => parser.push(c));
    parser.push(received);
    socket.write(encodeDatagramCapsule(Buffer.from('over http/1.1')));
    await waitFor('a capsule', () => capsules.length > 0);
    assert.equal(Buffer.from(decodeUdpPayload(capsules[0]!).payload).toString(), 'over http/1.1');
    socket.destroy();
  },
);
