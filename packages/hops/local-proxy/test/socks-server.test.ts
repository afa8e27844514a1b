import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { RelayError } from '@splitrelay/errors';
import { SocksReply, decodeReply, encodeGreeting, encodeRequest } from '@splitrelay/socks5';
import { createSocksServer } from '../src/index.ts';
import {
  closeServer,
  createEchoServer,
  createOrigin,
  dial,
  fakeConnector,
  listen,
  liveHandles,
  type Reader,
} from './fixtures.ts';

const run = promisify(execFile);

const echo = createEchoServer();
const origin = createOrigin();
let echoPort = 0;
let originPort = 0;
let proxyPort = 0;
let proxy: net.Server;
let connector: ReturnType<typeof fakeConnector>;
let slowConnects = 0;
let abortedConnects = 0;
const logged: Record<string, unknown>[] = [];

before(async () => {
  echoPort = await listen(echo);
  originPort = await listen(origin);
  connector = fakeConnector(
    {
      'echo.test': echoPort,
      '192.0.2.7': echoPort,
      '2001:db8::7': echoPort,
      'origin.test': originPort,
    },
    {
      'refused.test': 'connection-refused',
      'blocked.test': 'target-prohibited',
      'nxdomain.test': 'dns-error',
      'slow.test': 'connection-timeout',
      'egress.test': 'egress-unavailable',
      'odd.test': new RelayError('internal', 'boom'),
      'busy.test': new RelayError('limit-reached', 'egress flow limit reached', {
        retryAfterSeconds: 4,
      }),
    },
  );
  const connect: typeof connector.connect = async (target, signal) => {
    if (target.host === 'hang.test') {
      slowConnects++;
      await new Promise((_, reject) =>
        signal?.addEventListener('abort', () => {
          abortedConnects++;
          reject(new Error('aborted'));
        }),
      );
    }
    return connector.connect(target, signal);
  };
  proxy = createSocksServer({
    connect,
    handshakeTimeoutMs: 300,
    logger: { debug: (event, fields) => logged.push({ event, ...fields }), warn: () => {} },
  });
  proxyPort = await listen(proxy);
});

after(async () => {
  await closeServer(proxy);
  await closeServer(echo);
  await closeServer(origin);
  for (const t of connector.tunnels) assert.ok(t.destroyed, 'a tunnel was left open');
  await sleep(10);
  assert.deepEqual(liveHandles(), []);
});

/** Greeting, method selection, request and reply; returns the reply code. */
async function handshake(
  socket: net.Socket,
  reader: Reader,
  target: { host: string; port: number },
): Promise<number> {
  socket.write(encodeGreeting({ methods: [0x00] }));
  assert.deepEqual([...(await reader.bytes(2))], [0x05, 0x00]);
  socket.write(encodeRequest({ command: 'connect', ...target }));
  const head = await reader.bytes(4);
  const rest = await reader.bytes(
    head[3] === 0x04 ? 18 : head[3] === 0x01 ? 6 : 1 + (await reader.bytes(1))[0]! + 2,
  );
  const r = decodeReply(Buffer.concat([head, rest]));
  assert.ok(r.ok);
  return r.value.reply;
}

test('CONNECT by domain name echoes, and the name reaches the connector unresolved', async () => {
  const { socket, reader } = await dial(proxyPort);
  assert.equal(
    await handshake(socket, reader, { host: 'echo.test', port: 7 }),
    SocksReply.succeeded,
  );
  socket.write('hello over socks');
  assert.equal((await reader.bytes(16)).toString(), 'hello over socks');
  assert.deepEqual(connector.targets.at(-1), { host: 'echo.test', port: 7 });
  socket.end();
  await reader.end();
});

test('CONNECT by IPv4 and by IPv6 address', async () => {
  for (const host of ['192.0.2.7', '2001:db8::7']) {
    const { socket, reader } = await dial(proxyPort);
    assert.equal(await handshake(socket, reader, { host, port: 443 }), SocksReply.succeeded);
    socket.write('x');
    assert.equal((await reader.bytes(1)).toString(), 'x');
    assert.deepEqual(connector.targets.at(-1), { host, port: 443 });
    socket.destroy();
  }
});

test('greeting, request and early data in one write all arrive', async () => {
  const { socket, reader } = await dial(proxyPort);
  socket.write(
    Buffer.concat([
      encodeGreeting({ methods: [0x02, 0x00] }),
      encodeRequest({ command: 'connect', host: 'echo.test', port: 1 }),
      Buffer.from('early'),
    ]),
  );
  await reader.bytes(2 + 10);
  assert.equal((await reader.bytes(5)).toString(), 'early');
  socket.destroy();
});

test('half-close: the client ends, the echo server ends after echoing, the client gets all of it', async () => {
  const { socket, reader } = await dial(proxyPort);
  assert.equal(
    await handshake(socket, reader, { host: 'echo.test', port: 7 }),
    SocksReply.succeeded,
  );
  const payload = Buffer.alloc(3 * 1024 * 1024, 'abcdefgh');
  socket.end(payload);
  const got = await reader.end();
  assert.equal(got.length, payload.length);
  assert.ok(got.equals(payload));
  assert.ok(reader.ended);
});

test('connector refusals become the mapped reply codes', async () => {
  const cases: [string, number][] = [
    ['refused.test', SocksReply.connectionRefused],
    ['blocked.test', SocksReply.notAllowed],
    ['nxdomain.test', SocksReply.hostUnreachable],
    ['slow.test', SocksReply.ttlExpired],
    ['egress.test', SocksReply.networkUnreachable],
    ['odd.test', SocksReply.generalFailure],
  ];
  for (const [host, code] of cases) {
    const { socket, reader } = await dial(proxyPort);
    assert.equal(await handshake(socket, reader, { host, port: 443 }), code, host);
    await reader.end();
    socket.destroy();
  }
});

test("a later hop's Retry-After has no SOCKS5 field: the reply is a failure, the advice is logged", async () => {
  const { socket, reader } = await dial(proxyPort);
  assert.equal(
    await handshake(socket, reader, { host: 'busy.test', port: 443 }),
    SocksReply.generalFailure,
  );
  await reader.end();
  socket.destroy();
  assert.deepEqual(logged.at(-1), {
    event: 'socks connect refused',
    code: 'limit-reached',
    retryAfterSeconds: 4,
  });
});

test('clients that offer no "no authentication" method get X’FF’ and a close', async () => {
  const { socket, reader } = await dial(proxyPort);
  socket.write(encodeGreeting({ methods: [0x02] }));
  assert.deepEqual([...(await reader.end())], [0x05, 0xff]);
  socket.destroy();
});

test('BIND and UDP ASSOCIATE are answered "command not supported"', async () => {
  for (const command of ['bind', 'udp-associate'] as const) {
    const { socket, reader } = await dial(proxyPort);
    socket.write(encodeGreeting({ methods: [0x00] }));
    await reader.bytes(2);
    socket.write(encodeRequest({ command, host: '0.0.0.0', port: 0 }));
    const reply = await reader.end();
    assert.equal(reply[1], SocksReply.commandNotSupported);
    socket.destroy();
  }
});

test('malformed requests get a failure reply and a close', async () => {
  const cases: [Buffer, number][] = [
    [
      Buffer.from([0x05, 0x01, 0x00, 0x03, 6, ...Buffer.from('0x7f.1'), 0, 80]),
      SocksReply.generalFailure,
    ],
    [Buffer.from([0x05, 0x01, 0x00, 0x07]), SocksReply.addressTypeNotSupported],
    [Buffer.from([0x05, 0x09]), SocksReply.commandNotSupported],
    [
      Buffer.from(encodeRequest({ command: 'connect', host: 'echo.test', port: 0 })),
      SocksReply.generalFailure,
    ],
  ];
  for (const [request, code] of cases) {
    const { socket, reader } = await dial(proxyPort);
    socket.write(encodeGreeting({ methods: [0x00] }));
    await reader.bytes(2);
    socket.write(request);
    const reply = await reader.end();
    assert.equal(reply[1], code);
    socket.destroy();
  }
});

test('garbage is closed and the server keeps serving', async () => {
  for (const garbage of [
    'GET / HTTP/1.1\r\n\r\n',
    '\x04\x01\x00\x50\x7f\x00\x00\x01\x00',
    '\x05\x00',
    '\x05\x01\x00\x05\xff\xff',
  ]) {
    const { socket, reader } = await dial(proxyPort);
    socket.write(Buffer.from(garbage, 'latin1'));
    await reader.end();
    socket.destroy();
  }
  const { socket, reader } = await dial(proxyPort);
  assert.equal(
    await handshake(socket, reader, { host: 'echo.test', port: 7 }),
    SocksReply.succeeded,
  );
  socket.destroy();
});

test('a silent client is dropped after the handshake timeout', async () => {
  const { socket, reader } = await dial(proxyPort);
  const started = Date.now();
  socket.write(Buffer.from([0x05]));
  await reader.end();
  assert.ok(Date.now() - started >= 250, 'closed too early');
  socket.destroy();
});

test('a client that resets while the connector works aborts it', async () => {
  const { socket, reader } = await dial(proxyPort);
  socket.write(encodeGreeting({ methods: [0x00] }));
  await reader.bytes(2);
  socket.write(encodeRequest({ command: 'connect', host: 'hang.test', port: 1 }));
  while (slowConnects === 0) await sleep(5);
  // A FIN alone could be a half-close with the request; a reset means the client is gone.
  socket.resetAndDestroy();
  await once(socket, 'close');
  while (abortedConnects === 0) await sleep(5);
});

test('curl --socks5-hostname fetches through the proxy without resolving the name', async () => {
  const { stdout } = await run('/usr/bin/curl', [
    '-sS',
    '--max-time',
    '10',
    '--noproxy',
    '',
    '--socks5-hostname',
    `127.0.0.1:${proxyPort}`,
    `http://origin.test:${originPort}/via-socks?x=1`,
  ]);
  const seen = JSON.parse(stdout) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/via-socks?x=1');
  assert.equal(seen.headers.host, `origin.test:${originPort}`);
  assert.deepEqual(connector.targets.at(-1), { host: 'origin.test', port: originPort });
});
