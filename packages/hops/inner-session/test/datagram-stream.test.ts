/**
 * The egress's UDP path without a network: DATAGRAM capsules on a stream and a real UDP
 * socket. The send queue is bounded and drops what does not fit, counting each drop; one
 * capsule in is one datagram out, never more (no amplification towards a target); a bad
 * capsule stream ends the flow only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { Duplex, duplexPair } from 'node:stream';
import {
  CapsuleParser,
  MAX_UDP_PAYLOAD,
  decodeUdpPayload,
  encodeCapsule,
  encodeDatagramCapsule,
} from '@splitrelay/connect-udp';
import { DatagramStream } from '../src/index.ts';
import { bridgeUdp, type UdpBridgeStats } from '../src/udp-bridge.ts';

/** A stream whose peer never reads: every write after the first stays queued. */
function stalled(): Duplex {
  return new Duplex({ read() {}, write(_chunk, _enc, _done) {} });
}

test('the send queue is bounded: what does not fit is dropped and counted, never thrown', () => {
  const stream = stalled();
  const flow = new DatagramStream(stream, { maxQueueBytes: 64 * 1024 });
  const SENT = 1000;
  for (let i = 0; i < SENT; i++) flow.send(Buffer.alloc(1000, i));
  assert.equal(flow.stats.sent + flow.stats.dropped, SENT, 'every datagram sent or counted');
  assert.ok(flow.stats.dropped > 900, `${flow.stats.dropped} dropped`);
  // Admission is checked before each datagram: the queue ends at most one datagram past it.
  assert.ok(stream.writableLength <= 64 * 1024 + 1000 + 8, `${stream.writableLength} queued`);
  flow.destroy();
});

test('a datagram over the UDP maximum, or after close, is dropped and counted', async () => {
  const [ours, theirs] = duplexPair();
  theirs.resume();
  const flow = new DatagramStream(ours);
  flow.send(Buffer.alloc(MAX_UDP_PAYLOAD + 1));
  assert.deepEqual(flow.stats, { sent: 0, received: 0, dropped: 1 });
  flow.send(Buffer.alloc(MAX_UDP_PAYLOAD));
  assert.equal(flow.stats.sent, 1);
  const closed = once(flow, 'close');
  flow.destroy();
  await closed;
  flow.send(Buffer.from('late'));
  assert.deepEqual(flow.stats, { sent: 1, received: 0, dropped: 2 });
});

test('incoming: context 0 is a datagram, another context is dropped and counted, unknown capsules skipped', async () => {
  const [ours, theirs] = duplexPair();
  const flow = new DatagramStream(ours);
  const got: string[] = [];
  flow.on('datagram', (d) => got.push(d.toString()));
  const contextSeven = Buffer.concat([Buffer.from([0x07]), Buffer.from('other context')]);
  theirs.write(
    Buffer.concat([
      encodeDatagramCapsule(Buffer.from('one')),
      encodeCapsule(0x00, contextSeven),
      encodeCapsule(0x2a, Buffer.from('unknown type')),
      encodeDatagramCapsule(Buffer.from('two')),
    ]),
  );
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['one', 'two']);
  assert.deepEqual(flow.stats, { sent: 0, received: 2, dropped: 1 });
  flow.destroy();
});

test('a malformed capsule stream ends this flow, with an error for those who listen', async () => {
  const [ours, theirs] = duplexPair();
  // The far end is destroyed with the same error: the test's side of it only.
  theirs.on('error', () => {});
  const flow = new DatagramStream(ours);
  const errors: Error[] = [];
  flow.on('error', (err) => errors.push(err));
  // Not events.once: it would reject on the 'error' this test expects.
  const closed = new Promise<void>((r) => flow.once('close', () => r()));
  // A DATAGRAM capsule declaring far more than any UDP payload.
  theirs.write(Buffer.from([0x00, 0x80, 0x10, 0x00, 0x00]));
  await closed;
  assert.equal(errors.length, 1);
  assert.equal(flow.closed, true);
});

test('the bridge never amplifies: N capsules make N datagrams, M replies make M capsules', async () => {
  const target = dgram.createSocket('udp4');
  const atTarget: Buffer[] = [];
  target.on('message', (msg, rinfo) => {
    atTarget.push(msg);
    // Every datagram answered exactly once.
    target.send(msg, rinfo.port, rinfo.address);
  });
  target.bind(0, '127.0.0.1');
  await once(target, 'listening');
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  socket.connect(target.address().port, '127.0.0.1');
  await once(socket, 'connect');

  const [egressSide, clientSide] = duplexPair();
  const back: Buffer[] = [];
  const parser = new CapsuleParser({
    onCapsule: (type, value) => {
      if (type === 0) back.push(Buffer.from(decodeUdpPayload(value).payload));
    },
  });
  clientSide.on('data', (c: Buffer) => parser.push(c));
  let done: UdpBridgeStats | undefined;
  bridgeUdp(new DatagramStream(egressSide), socket, {
    idleTimeoutMs: 30_000,
    onDone: (stats) => (done = stats),
  });
  const N = 200;
  try {
    for (let i = 0; i < N; i++) {
      const payload = Buffer.alloc(2 + (i % 1200), i % 256);
      payload.writeUInt16BE(i, 0);
      // One at a time: the loss of a loopback burst is not what is measured here.
      clientSide.write(encodeDatagramCapsule(payload));
      while (back.length <= i) await new Promise((r) => setImmediate(r));
    }
    clientSide.end();
    await new Promise<void>((resolve) => {
      const wait = (): void => (done ? resolve() : void setImmediate(wait));
      wait();
    });
  } finally {
    target.close();
    clientSide.destroy();
  }
  assert.equal(atTarget.length, N, 'exactly one datagram per capsule');
  assert.deepEqual(
    atTarget.map((d) => d.length),
    Array.from({ length: N }, (_, i) => 2 + (i % 1200)),
  );
  assert.equal(back.length, N, 'exactly one capsule per reply');
  assert.deepEqual(done, { toTarget: N, fromTarget: N, dropped: 0 });
});
