/**
 * Per-dial source addresses: the egress hands each dial the addresses its inner session
 * drew, one per family. A flow must leave from exactly that address, never from another
 * family's default, and a target with no address of a family the session has must be refused
 * before anything is connected.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { compilePolicy, type Target } from '@splitrelay/target-policy';
import { createTargetDialer, type TargetDialerOptions } from '../src/index.ts';
import { assertNoLeakedHandles, countingServer, rejectsWith } from './helpers.ts';

const policy = compilePolicy({ allowCidrs: ['127.0.0.0/8', '::1/128'] });
const tcp = (host: string, port: number): Target => ({ host, port, kind: 'tcp' });
const udp = (host: string, port: number): Target => ({ host, port, kind: 'udp' });

function dialer(overrides: Partial<TargetDialerOptions> = {}) {
  return createTargetDialer({ policy, connectTimeoutMs: 2000, dnsTimeoutMs: 2000, ...overrides });
}

async function hasIpv6Loopback(): Promise<boolean> {
  const s = net.createServer();
  try {
    s.listen(0, '::1');
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

after(assertNoLeakedHandles);

test('a per-dial source is bound, with the kernel choosing the port', async () => {
  const server = await countingServer();
  const d = dialer();
  for (const address of ['127.0.9.7', '127.0.9.200']) {
    const socket = await d.dial(tcp('127.0.0.1', server.port), undefined, { ipv4: address });
    assert.equal(socket.localAddress, address);
    assert.ok((socket.localPort ?? 0) > 0);
    socket.destroy();
  }
  await server.close();
});

test("a per-dial source replaces the dialer's localAddress", async () => {
  const server = await countingServer();
  const d = dialer({ localAddress: '127.0.0.9' });
  const drawn = await d.dial(tcp('127.0.0.1', server.port), undefined, { ipv4: '127.0.9.3' });
  assert.equal(drawn.localAddress, '127.0.9.3');
  drawn.destroy();
  // Without one, the dialer-wide address is still the default.
  const plain = await d.dial(tcp('127.0.0.1', server.port));
  assert.equal(plain.localAddress, '127.0.0.9');
  plain.destroy();
  await server.close();
});

test('each attempt binds the source of its own family; families without one are never dialled', async (t) => {
  if (!(await hasIpv6Loopback())) {
    t.skip('no IPv6 loopback here');
    return;
  }
  const server6 = await countingServer('::1');
  const server4 = await countingServer('127.0.0.1', server6.port).catch(() => undefined);
  const seen: net.TcpNetConnectOpts[] = [];
  const d = dialer({
    resolve: async () => ['::1', '127.0.0.1'],
    connect: (opts) => {
      seen.push(opts);
      return net.connect(opts);
    },
  });
  // Only an IPv6 source: the IPv4 answer is left out, not dialled from a default address.
  const v6 = await d.dial(tcp('dual.example', server6.port), undefined, { ipv6: '::1' });
  assert.equal(v6.localAddress, '::1');
  v6.destroy();
  assert.deepEqual(
    seen.map((o) => [o.host, o.localAddress]),
    [['::1', '::1']],
  );
  if (server4 !== undefined) {
    seen.length = 0;
    const v4 = await d.dial(tcp('dual.example', server6.port), undefined, { ipv4: '127.0.9.4' });
    assert.equal(v4.localAddress, '127.0.9.4');
    v4.destroy();
    assert.deepEqual(
      seen.map((o) => [o.host, o.localAddress]),
      [['127.0.0.1', '127.0.9.4']],
    );
    await server4.close();
  }
  await server6.close();
});

test('a target with no address of a family the session has is refused before any connect', async () => {
  const server = await countingServer();
  let connects = 0;
  const d = dialer({
    resolve: async () => ['::1'],
    connect: (opts) => {
      connects++;
      return net.connect(opts);
    },
  });
  await rejectsWith(
    d.dial(tcp('v6only.example', server.port), undefined, { ipv4: '127.0.9.5' }),
    'destination-unreachable',
    /no IPv4 address for the target/,
  );
  await rejectsWith(
    d.dial(tcp('127.0.0.1', server.port), undefined, {}),
    'destination-unreachable',
    /no source address/,
  );
  await rejectsWith(
    d.dialUdp(udp('v6only.example', server.port), undefined, { ipv4: '127.0.9.5' }),
    'destination-unreachable',
    /no IPv4 address/,
  );
  assert.equal(connects, 0);
  assert.equal(server.connections, 0);
  await server.close();
});

test('a UDP flow is bound to its source and connected to the target', async () => {
  const echo = dgram.createSocket('udp4');
  echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
  echo.bind(0, '127.0.0.1');
  await once(echo, 'listening');
  const port = echo.address().port;
  const seenFrom: string[] = [];
  echo.on('message', (_msg, rinfo) => seenFrom.push(rinfo.address));
  const socket = await dialer().dialUdp(udp('127.0.0.1', port), undefined, {
    ipv4: '127.0.9.6',
  });
  assert.equal(socket.address().address, '127.0.9.6');
  assert.equal(socket.remoteAddress().port, port);
  const reply = once(socket, 'message');
  socket.send('ping');
  assert.equal(String(((await reply) as [Buffer])[0]), 'ping');
  assert.deepEqual(seenFrom, ['127.0.9.6']);
  socket.close();
  echo.close();
});
