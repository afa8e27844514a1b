import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { RelayError } from '@splitrelay/errors';
import { decodeReply, encodeGreeting, encodeRequest } from '@splitrelay/socks5';
import { readFileSync } from 'node:fs';
import {
  UdpKernelDrops,
  createSocksServer,
  createUdpCounters,
  type LocalProxyLogFields,
  type UdpAssociateOptions,
  type UdpConnector,
  type UdpCounters,
} from '../src/index.ts';
import { closeServer, dial, liveHandles, listen } from './fixtures.ts';
import {
  bindUdp,
  closeUdp,
  createUdpEcho,
  fakeUdpConnector,
  SocksUdpClient,
  until,
  type FakeUdpConnector,
} from './udp-fixtures.ts';

let echo: dgram.Socket;
let echoPort = 0;

before(async () => {
  ({ socket: echo, port: echoPort } = await createUdpEcho());
});

after(async () => {
  closeUdp(echo);
  await sleep(10);
  assert.deepEqual(liveHandles(), []);
});

interface LogLine {
  level: 'debug' | 'warn';
  event: string;
  fields?: LocalProxyLogFields;
}

interface Harness {
  port: number;
  counters: UdpCounters;
  connector: FakeUdpConnector;
  logs: LogLine[];
  associate(options?: Parameters<typeof SocksUdpClient.associate>[1]): Promise<SocksUdpClient>;
}

/** A SOCKS server with UDP flows to the echo server, closed (and checked) after the test. */
async function startProxy(
  t: TestContext,
  udp: UdpAssociateOptions = {},
  options: { host?: string; wrap?: (open: UdpConnector) => UdpConnector } = {},
): Promise<Harness> {
  const connector = fakeUdpConnector(
    {
      '127.0.0.1': echoPort,
      '2001:db8::7': echoPort,
      'echo.test': echoPort,
      'gate.test': echoPort,
      'gate2.test': echoPort,
      'frag.test': echoPort,
    },
    { 'refused.test': 'target-prohibited' },
  );
  const counters = createUdpCounters();
  const logs: LogLine[] = [];
  const server = createSocksServer({
    connect: () => Promise.reject(new RelayError('internal', 'TCP is not under test')),
    openUdp: options.wrap ? options.wrap(connector.openUdp) : connector.openUdp,
    udp: { counters, ...udp },
    logger: {
      debug: (event, fields) => logs.push({ level: 'debug', event, fields }),
      warn: (event, fields) => logs.push({ level: 'warn', event, fields }),
    },
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, host);
  const clients: SocksUdpClient[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    await closeServer(server);
    for (const flow of connector.flows) assert.ok(flow.closed, 'a flow was left open');
    // Logs are data: codes only, never a target.
    assert.doesNotMatch(JSON.stringify(logs), /\.test|127\.0\.0|2001:db8/);
  });
  return {
    port,
    counters,
    connector,
    logs,
    associate: async (o) => {
      const client = await SocksUdpClient.associate(port, { proxyHost: host, ...o });
      clients.push(client);
      return client;
    },
  };
}

const text = (d: { data: Uint8Array }): string => Buffer.from(d.data).toString();

test('UDP ASSOCIATE relays to IPv4, IPv6 and named targets, names unresolved', async (t) => {
  const h = await startProxy(t);
  const client = await h.associate();
  assert.equal(client.relay.host, '127.0.0.1');
  assert.notEqual(client.relay.port, 0);
  assert.notEqual(client.relay.port, h.port);

  client.send({ host: '127.0.0.1', port: echoPort }, 'by address');
  const v4 = await client.receive();
  assert.deepEqual(
    [v4.host, v4.port, v4.kind, text(v4)],
    ['127.0.0.1', echoPort, 'ipv4', 'by address'],
  );

  client.send({ host: 'echo.test', port: 53 }, 'by name');
  const named = await client.receive();
  assert.deepEqual(
    [named.host, named.port, named.kind, text(named)],
    ['echo.test', 53, 'dns', 'by name'],
  );

  client.send({ host: '2001:db8::7', port: 443 }, 'by v6');
  const v6 = await client.receive();
  assert.deepEqual([v6.host, v6.port, v6.kind, text(v6)], ['2001:db8::7', 443, 'ipv6', 'by v6']);

  for (const n of [1, 2, 3]) client.send({ host: 'echo.test', port: 53 }, `again ${n}`);
  for (const n of [1, 2, 3]) assert.equal(text(await client.receive()), `again ${n}`);

  // The connector got the name itself, once per distinct target.
  assert.deepEqual(h.connector.targets, [
    { host: '127.0.0.1', port: echoPort },
    { host: 'echo.test', port: 53 },
    { host: '2001:db8::7', port: 443 },
  ]);
  assert.equal(h.counters.associations, 1);
  assert.equal(h.counters.flowsOpened, 3);
  assert.equal(h.counters.datagramsUp, 6);
  assert.equal(h.counters.datagramsDown, 6);
});

test('a reply names the target as the client spelled it', async (t) => {
  const h = await startProxy(t);
  const client = await h.associate();
  // A DOMAINNAME that spells an IP is opened as that IP but answered as the name it was.
  const name = Buffer.from('127.0.0.1');
  const header = Buffer.from([0, 0, 0, 3, name.length, ...name, echoPort >> 8, echoPort & 0xff]);
  client.sendRaw(Buffer.concat([header, Buffer.from('spelled')]));
  const got = await client.receive();
  assert.equal(got.kind, 'ipv4');
  assert.equal(text(got), 'spelled');
  assert.deepEqual(h.connector.targets, [{ host: '127.0.0.1', port: echoPort }]);
});

test('datagrams sent while a flow opens are queued in order, within the bounds', async (t) => {
  const h = await startProxy(t, { maxQueuedDatagrams: 8, maxQueuedBytes: 5000 });
  const client = await h.associate();

  const release = h.connector.gate('gate.test');
  for (let n = 0; n < 10; n++) client.send({ host: 'gate.test', port: 9 }, `q${n}`);
  await until(() => h.connector.targets.length === 1, 'the open to start');
  await until(() => h.counters.droppedQueueFull === 2, 'the queue to overflow');
  release();
  for (let n = 0; n < 8; n++) assert.equal(text(await client.receive()), `q${n}`);
  await client.nothing();

  const release2 = h.connector.gate('gate2.test');
  for (let n = 0; n < 3; n++) client.send({ host: 'gate2.test', port: 9 }, Buffer.alloc(3000, n));
  await until(() => h.counters.droppedQueueFull === 4, 'the byte bound');
  release2();
  const got = await client.receive();
  assert.equal(got.data.length, 3000);
  assert.equal(got.data[0], 0);
  await client.nothing();
  assert.equal(h.connector.targets.length, 2);
});

test('FRAG != 0 is dropped and opens no flow', async (t) => {
  const h = await startProxy(t);
  const client = await h.associate();
  client.send({ host: 'frag.test', port: 1 }, 'fragment', 1);
  client.send({ host: 'frag.test', port: 1 }, 'last fragment', 0x81);
  client.send({ host: 'echo.test', port: 1 }, 'whole');
  assert.equal(text(await client.receive()), 'whole');
  await client.nothing();
  assert.equal(h.counters.droppedFragment, 2);
  assert.deepEqual(h.connector.targets, [{ host: 'echo.test', port: 1 }]);
});

test('only the client address and the port it named are accepted', async (t) => {
  const h = await startProxy(t);
  const client = await h.associate({ announce: true });
  const otherPort = await bindUdp('127.0.0.1');
  const otherAddress = await bindUdp('127.0.0.2');
  t.after(() => {
    closeUdp(otherPort);
    closeUdp(otherAddress);
  });
  client.send({ host: 'echo.test', port: 1 }, 'from another port', 0, otherPort);
  client.send({ host: 'echo.test', port: 2 }, 'from another address', 0, otherAddress);
  // One receive queue: once the client's own datagram is echoed, the others were handled.
  client.send({ host: 'echo.test', port: 3 }, 'from the client');
  assert.equal(text(await client.receive()), 'from the client');
  await client.nothing();
  assert.equal(h.counters.droppedForeignSource, 2);
  assert.deepEqual(h.connector.targets, [{ host: 'echo.test', port: 3 }]);
});

test('with port 0 in the request, the first datagram fixes the client port', async (t) => {
  const h = await startProxy(t);
  const client = await h.associate();
  const intruder = await bindUdp('127.0.0.1');
  t.after(() => closeUdp(intruder));
  client.send({ host: 'echo.test', port: 1 }, 'first');
  assert.equal(text(await client.receive()), 'first');
  client.send({ host: 'echo.test', port: 1 }, 'injected', 0, intruder);
  client.send({ host: 'echo.test', port: 1 }, 'second');
  assert.equal(text(await client.receive()), 'second');
  await client.nothing();
  assert.equal(h.counters.droppedForeignSource, 1);
});

for (const how of ['end', 'reset'] as const) {
  test(`closing the control connection (${how}) closes the UDP socket and every flow`, async (t) => {
    const h = await startProxy(t);
    const client = await h.associate();
    client.send({ host: 'echo.test', port: 1 }, 'a');
    client.send({ host: '127.0.0.1', port: echoPort }, 'b');
    await client.receive();
    await client.receive();
    const release = h.connector.gate('gate.test');
    client.send({ host: 'gate.test', port: 1 }, 'still opening');
    await until(() => h.connector.targets.length === 3, 'the third open');

    if (how === 'end') client.control.end();
    else client.control.resetAndDestroy();
    await until(() => h.connector.flows.every((f) => f.closeCalls === 1), 'the flows to be closed');
    assert.equal(h.connector.flows.length, 2);
    assert.ok(
      h.connector.signals.every((s) => s.aborted),
      'the pending open was not aborted',
    );
    if (how === 'end') await client.reader.end();
    assert.ok(client.reader.ended, 'the control connection stayed open');

    // The UDP port is free again: the association's socket is closed, not just forgotten.
    const rebound = await bindUdp(client.relay.host, client.relay.port);
    closeUdp(rebound);

    // A flow that arrives after the end is closed at once.
    release();
    await until(() => h.connector.flows.length === 3, 'the late flow');
    await until(() => h.connector.flows[2]!.closeCalls === 1, 'the late flow to be closed');
  });
}

test('a refused target is held for a while, logged with its code, and others keep working', async (t) => {
  // Far longer than the few milliseconds the checks inside the hold take, on any machine.
  const HOLD_MS = 2000;
  const h = await startProxy(
    t,
    { failureHoldMs: HOLD_MS },
    {
      wrap: (open) => (target, signal) => {
        if (target.host === 'sync-throw.test') throw new Error('connector bug');
        return open(target, signal);
      },
    },
  );
  const client = await h.associate();
  const refused = { host: 'refused.test', port: 53 };
  for (let n = 0; n < 3; n++) client.send(refused, `r${n}`);
  client.send({ host: 'sync-throw.test', port: 1 }, 'x');
  await until(() => h.counters.droppedRefused === 4, 'the queued datagrams to be dropped');
  const refusedAt = performance.now();
  for (let n = 0; n < 5; n++) client.send(refused, `held ${n}`);
  client.send({ host: 'echo.test', port: 1 }, 'unaffected');
  assert.equal(text(await client.receive()), 'unaffected');
  await client.nothing();
  assert.equal(h.counters.droppedRefused, 9);
  assert.equal(h.connector.targets.filter((x) => x.host === 'refused.test').length, 1);
  assert.deepEqual(
    h.logs.filter((l) => l.event === 'socks udp flow refused').map((l) => l.fields?.code),
    ['target-prohibited', 'internal'],
  );

  // Past the hold (a lower bound: a late wake-up only waits longer).
  await sleep(Math.max(0, refusedAt + HOLD_MS + 50 - performance.now()));
  client.send(refused, 'after the hold');
  await until(
    () => h.connector.targets.filter((x) => x.host === 'refused.test').length === 2,
    'a new attempt after the hold',
  );
});

test('garbage datagrams are dropped and counted, and the association keeps working', async (t) => {
  const h = await startProxy(t);
  const client = await h.associate();
  const garbage: number[][] = [
    [],
    [0],
    [0, 0],
    [0, 0, 0],
    [1, 0, 0, 1, 127, 0, 0, 1, 0, 80],
    [0, 1, 0, 1, 127, 0, 0, 1, 0, 80],
    [0, 0, 0, 9, 1, 2, 3],
    [0, 0, 0, 1, 127, 0, 0],
    [0, 0, 0, 3, 0, 0, 80],
    [0, 0, 0, 3, 3, 0x61, 0x2f, 0x62, 0, 80],
    [0, 0, 0, 3, 9, ...Buffer.from('echo.test'), 0, 0],
    [0, 0, 0, 4, ...new Array<number>(16).fill(0), 0],
  ];
  for (const g of garbage) client.sendRaw(Buffer.from(g));
  const random = fc.sample(fc.uint8Array({ maxLength: 300 }), { numRuns: 200, seed: 42 });
  for (const r of random) client.sendRaw(r);
  client.send({ host: 'echo.test', port: 7 }, 'still here');
  let got = await client.receive();
  // Random bytes are all but certain to be refused; skip anything they happened to reach.
  while (got.host !== 'echo.test') got = await client.receive();
  assert.equal(text(got), 'still here');
  assert.ok(h.counters.droppedMalformed >= garbage.length, `${h.counters.droppedMalformed}`);
  assert.ok(!h.logs.some((l) => l.level === 'warn'), 'an unexpected error was logged');
});

test('flows beyond the limit are dropped; idle flows close and the next datagram reopens', async (t) => {
  // The busy flow is refreshed every ~60 ms, far inside the idle timeout on any machine.
  const IDLE_MS = 1000;
  const h = await startProxy(t, { maxFlows: 2, flowIdleTimeoutMs: IDLE_MS });
  const client = await h.associate();
  const a = { host: 'echo.test', port: 1 };
  const b = { host: 'echo.test', port: 2 };
  client.send(a, 'a');
  client.send(b, 'b');
  await client.receive();
  await client.receive();
  client.send({ host: 'echo.test', port: 3 }, 'c');
  await until(() => h.counters.droppedFlowLimit === 1, 'the third target to be dropped');
  await client.nothing(50);
  assert.equal(h.connector.targets.length, 2);

  // Traffic keeps `a` alive while `b` idles out.
  const [flowA, flowB] = h.connector.flows;
  for (let n = 0; flowB!.closeCalls === 0; n++) {
    client.send(a, `keep ${n}`);
    assert.equal(text(await client.receive()), `keep ${n}`);
    await sleep(60);
  }
  assert.equal(flowB!.closeCalls, 1, 'the idle flow closed once');
  assert.equal(flowA!.closeCalls, 0, 'the busy flow was closed');
  await until(() => flowA!.closeCalls === 1, 'the busy flow to idle out', 5 * IDLE_MS);

  client.send({ host: 'echo.test', port: 3 }, 'c again');
  assert.equal(text(await client.receive()), 'c again');
  assert.equal(h.connector.targets.length, 3);
});

test('a flow the relay side ends is reopened by the next datagram', async (t) => {
  const h = await startProxy(t);
  const client = await h.associate();
  const target = { host: 'echo.test', port: 1 };
  client.send(target, 'one');
  await client.receive();
  h.connector.flows[0]!.remoteClose();
  client.send(target, 'two');
  assert.equal(text(await client.receive()), 'two');
  assert.equal(h.connector.flows.length, 2);
  assert.equal(h.connector.flows[0]!.closeCalls, 0);
});

test('the UDP socket is bound on the address the control connection arrived on (::1)', async (t) => {
  let probe: dgram.Socket;
  try {
    probe = await bindUdp('::1');
  } catch {
    t.skip('no IPv6 loopback here');
    return;
  }
  closeUdp(probe);
  const h = await startProxy(t, {}, { host: '::1' });
  const client = await h.associate();
  assert.equal(client.relay.host, '::1');
  client.send({ host: 'echo.test', port: 1 }, 'over v6');
  assert.equal(text(await client.receive()), 'over v6');
});

test('trailing bytes on the control connection are ignored', async (t) => {
  const h = await startProxy(t);
  const { socket, reader } = await dial(h.port);
  socket.write(
    Buffer.concat([
      encodeGreeting({ methods: [0x00] }),
      encodeRequest({ command: 'udp-associate', host: '0.0.0.0', port: 0 }),
      Buffer.from('meaningless'),
    ]),
  );
  await reader.bytes(2);
  const reply = decodeReply(await reader.bytes(10));
  assert.ok(reply.ok);
  assert.equal(reply.value.reply, 0);
  socket.write('more');
  await sleep(30);
  assert.equal(reader.buf.length, 0);
  assert.equal(h.counters.associations, 1);
  assert.ok(!reader.ended);
  socket.destroy();
});

test('association sockets get buffers sized for bursts, as the kernel allows', async (t) => {
  const h = await startProxy(t);
  await h.associate();
  const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  // The kernel reserves twice what is asked, up to twice its maximum.
  assert.ok(
    h.counters.recvBufferBytes >= Math.min(4 * 1024 * 1024, rmemMax),
    `${h.counters.recvBufferBytes} bytes`,
  );
});

test('what the kernel drops at a full association socket is counted: handed on + dropped = sent', async (t) => {
  const kernelDrops = new UdpKernelDrops();
  // A small buffer, so that a burst overflows it for certain.
  const h = await startProxy(t, { kernelDrops, socketBufferBytes: 4096 });
  const client = await h.associate({ announce: true });
  const target = { host: '127.0.0.1', port: echoPort };
  client.send(target, 'open the flow');
  await client.receive();
  const before = h.counters.datagramsUp;
  const SENT = 300;
  // One synchronous burst: the proxy (in this process) reads none of it before the loop ends.
  for (let i = 0; i < SENT; i++) client.send(target, Buffer.alloc(1000, i));
  const deadline = Date.now() + 5000;
  let dropped: number;
  while (h.counters.datagramsUp - before + (dropped = await kernelDrops.total()) < SENT) {
    assert.ok(Date.now() < deadline, `${h.counters.datagramsUp - before} + ${dropped} of ${SENT}`);
    await sleep(10);
  }
  assert.equal(h.counters.datagramsUp - before + dropped, SENT);
  assert.ok(dropped > 0, 'the burst overflowed the small buffer');
  // The socket's row goes when it closes: its last count is kept.
  client.close();
  await until(() => h.connector.flows.every((f) => f.closed), 'the association to close');
  assert.equal(await kernelDrops.total(), dropped);
});
