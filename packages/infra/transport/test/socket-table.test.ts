/**
 * The kernel's socket tables: the layout in both byte orders, a process's own sockets found
 * by inode (and another's not), and the `drops` column counting exactly what a full receive
 * buffer threw away (received + dropped = sent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { TCP_ESTABLISHED, ownSockets, parseSocketTable } from '../src/index.ts';
import { eventually } from '../../../../tools/test-kit/src/eventually.ts';

const UDP_TABLE = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
13694: 0104007F:9C53 00000000:0000 07 00000000:00000A00 00:00000000 00000000     0        0 1070953 2 000000007360bc0d 17
garbage line
`;
const TCP6_TABLE = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:8615 0000000000000000FFFF00000100007F:91D7 01 00000010:00000000 03:000008ED 00000000     0        0 4242 3 000000005dbed5d3
`;

test('the table layout: addresses per 32-bit word in host order, hex ports, queues, drops', () => {
  assert.deepEqual(parseSocketTable(UDP_TABLE, 'udp', true), [
    {
      protocol: 'udp',
      family: 4,
      localAddress: '127.0.4.1',
      localPort: 0x9c53,
      remoteAddress: '0.0.0.0',
      remotePort: 0,
      state: 7,
      txQueue: 0,
      rxQueue: 0xa00,
      inode: 1070953,
      drops: 17,
    },
  ]);
  const [row] = parseSocketTable(TCP6_TABLE, 'tcp', true);
  assert.equal(row?.localAddress, '::1');
  assert.equal(row?.remoteAddress, '::ffff:127.0.0.1');
  assert.equal(row?.state, TCP_ESTABLISHED);
  assert.equal(row?.txQueue, 16);
  assert.equal(row?.drops, undefined, 'TCP rows have no drops column');
  // A big-endian host prints the same address with its bytes in order.
  assert.equal(
    parseSocketTable(UDP_TABLE.replace('0104007F', '7F000401'), 'udp', false)[0]?.localAddress,
    '127.0.4.1',
  );
  assert.deepEqual(parseSocketTable('', 'udp'), []);
});

test("a process's own sockets are found by inode; another process's are not", async () => {
  const own = dgram.createSocket('udp4');
  own.bind(0, '127.0.0.1');
  await once(own, 'listening');
  const child = spawn(
    process.execPath,
    [
      '-e',
      "const s = require('node:dgram').createSocket('udp4'); s.bind(0, '127.0.0.1', () => console.log(s.address().port)); setTimeout(() => {}, 30000)",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const theirs = Number(line.toString().trim());
    const mine = (await ownSockets('udp')).map((r) => r.localPort);
    assert.ok(mine.includes(own.address().port));
    assert.ok(!mine.includes(theirs), 'another process holds that one');
    assert.ok((await ownSockets('udp', child.pid!)).some((r) => r.localPort === theirs));
  } finally {
    child.kill();
    own.close();
  }
});

test('drops: what a full receive buffer discards, exactly (received + dropped = sent)', async () => {
  const rx = dgram.createSocket({ type: 'udp4', recvBufferSize: 16 * 1024 });
  rx.bind(0, '127.0.0.1');
  await once(rx, 'listening');
  let received = 0;
  rx.on('message', () => received++);
  const tx = dgram.createSocket('udp4');
  tx.bind(0, '127.0.0.1');
  await once(tx, 'listening');
  const port = rx.address().port;
  const SENT = 400;
  let sendErrors = 0;
  // One synchronous burst: the kernel takes each send at once, the receiver reads none of
  // them until this loop ends, so its small buffer overflows.
  for (let i = 0; i < SENT; i++)
    tx.send(Buffer.alloc(1000), port, '127.0.0.1', (err) => (sendErrors += err ? 1 : 0));
  try {
    const row = await eventually('every datagram received or counted as dropped', async () => {
      const r = (await ownSockets('udp')).find((s) => s.localPort === port);
      return r && received + (r.drops ?? 0) + sendErrors === SENT ? r : undefined;
    });
    assert.ok((row.drops ?? 0) > 0, 'the burst overflowed the buffer');
    assert.ok(received > 0);
  } finally {
    rx.close();
    tx.close();
  }
});

test('TCP: a connection shows as ESTABLISHED with its far end', async () => {
  const server = net.createServer((s) => s.on('error', () => {}));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  try {
    const rows = await ownSockets('tcp');
    const row = rows.find((r) => r.localPort === socket.localPort);
    assert.equal(row?.remotePort, port);
    assert.equal(row?.state, TCP_ESTABLISHED);
  } finally {
    socket.destroy();
    server.close();
  }
});
