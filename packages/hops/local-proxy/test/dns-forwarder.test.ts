/**
 * The loopback DNS forwarder over real UDP and TCP sockets, with a stand-in resolver (the
 * client app's is DoH through Oblivious HTTP): the asker's ID comes back while the resolver
 * only ever sees ID 0; failures, timeouts and overload are SERVFAIL, never silence.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { createDnsForwarder, servfail, type DnsForwarder } from '../src/index.ts';

const HOST = '127.0.0.1';
const T = { timeout: 10_000 };

function query(id: number, name: string): Buffer {
  const labels = name
    .split('.')
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/** An answer to `q`: one A record 192.0.2.<n>, padded with `pad` bytes of TXT-ish filler. */
function answerTo(q: Uint8Array, n: number, pad = 0): Uint8Array {
  const header = Buffer.from(q.subarray(0, 12));
  header[2] = 0x81;
  header[3] = 0x80;
  header.writeUInt16BE(1, 6);
  const record = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, n]);
  return Buffer.concat([header, q.subarray(12), record, Buffer.alloc(pad)]);
}

const seenIds: number[] = [];
let mode: 'ok' | 'fail' | 'hang' | 'big' = 'ok';
let forwarder: DnsForwarder;
let port = 0;

before(async () => {
  forwarder = createDnsForwarder({
    timeoutMs: 300,
    maxInFlight: 4,
    async resolve(q, signal) {
      seenIds.push(Buffer.from(q).readUInt16BE(0));
      if (mode === 'fail') throw new Error('upstream failed');
      if (mode === 'hang')
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      return answerTo(q, 7, mode === 'big' ? 600 : 0);
    },
  });
  port = (await forwarder.listen(HOST, 0, true)).port;
});
after(() => forwarder.close());

async function askUdp(q: Buffer): Promise<Buffer> {
  const socket = dgram.createSocket('udp4');
  try {
    socket.send(q, port, HOST);
    const [msg] = (await once(socket, 'message')) as [Buffer];
    return msg;
  } finally {
    socket.close();
  }
}

async function askTcp(queries: Buffer[]): Promise<Buffer[]> {
  const socket = net.connect(port, HOST);
  await once(socket, 'connect');
  socket.write(
    Buffer.concat(
      queries.flatMap((q) => {
        const p = Buffer.alloc(2);
        p.writeUInt16BE(q.length, 0);
        return [p, q];
      }),
    ),
  );
  const answers: Buffer[] = [];
  let buf = Buffer.alloc(0);
  for await (const chunk of socket) {
    buf = Buffer.concat([buf, chunk as Buffer]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      answers.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
    }
    if (answers.length === queries.length) break;
  }
  socket.destroy();
  return answers;
}

test('UDP: the asker’s ID comes back; the resolver saw ID 0', T, async () => {
  const reply = await askUdp(query(0xbeef, 'example.test'));
  assert.equal(reply.readUInt16BE(0), 0xbeef);
  assert.deepEqual([...reply.subarray(-4)], [192, 0, 2, 7]);
  assert.equal(seenIds.at(-1), 0);
});

test('TCP: several queries on one connection, each answered with its ID', T, async () => {
  const answers = await askTcp([query(1, 'a.test'), query(2, 'b.test'), query(3, 'c.test')]);
  assert.deepEqual(answers.map((a) => a.readUInt16BE(0)).sort(), [1, 2, 3]);
});

test('a failed or timed-out resolver is SERVFAIL with the question', T, async () => {
  for (const m of ['fail', 'hang'] as const) {
    mode = m;
    try {
      const reply = await askUdp(query(9, 'x.test'));
      assert.equal(reply.readUInt16BE(0), 9);
      assert.equal(reply[3]! & 0x0f, 2, 'SERVFAIL');
      assert.equal(reply.readUInt16BE(4), 1, 'the question is kept');
    } finally {
      mode = 'ok';
    }
  }
});

test('an answer too big for UDP is truncated (TC) over UDP, whole over TCP', T, async () => {
  mode = 'big';
  try {
    const udp = await askUdp(query(5, 'big.test'));
    assert.ok(udp.length <= 512);
    assert.equal(udp[2]! & 0x02, 0x02, 'TC set');
    const [tcp] = await askTcp([query(6, 'big.test')]);
    assert.ok(tcp!.length > 512);
    assert.equal(tcp![2]! & 0x02, 0);
  } finally {
    mode = 'ok';
  }
});

test('overload: beyond maxInFlight, SERVFAIL at once; the forwarder keeps serving', T, async () => {
  mode = 'hang';
  const stalled = Array.from({ length: 4 }, (_, i) => askUdp(query(100 + i, 's.test')));
  await new Promise((r) => setTimeout(r, 50));
  const over = await askUdp(query(200, 'o.test'));
  assert.equal(over[3]! & 0x0f, 2);
  await Promise.all(stalled);
  mode = 'ok';
  const after = await askUdp(query(201, 'ok.test'));
  assert.equal(after[3]! & 0x0f, 0);
});

test('servfail of a malformed question keeps only the header', () => {
  const q = query(1, 'a.test');
  const bad = Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 0x05])]);
  assert.equal(servfail(bad).length, 12);
  assert.equal(servfail(bad).readUInt16BE(4), 0);
});
