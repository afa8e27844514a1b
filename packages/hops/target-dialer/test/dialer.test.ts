import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { compilePolicy, type Target } from '@splitrelay/target-policy';
import { createTargetDialer, type TargetDialerOptions } from '../src/index.ts';
import {
  assertNoLeakedHandles,
  closedPort,
  countingServer,
  rejectsWith,
  stalledResolver,
} from './helpers.ts';

const loopbackPolicy = compilePolicy({ allowCidrs: ['127.0.0.0/8', '::1/128'] });
const defaultPolicy = compilePolicy();

const tcp = (host: string, port: number): Target => ({ host, port, kind: 'tcp' });

function dialer(
  overrides: Partial<TargetDialerOptions> = {},
): ReturnType<typeof createTargetDialer> {
  return createTargetDialer({
    policy: loopbackPolicy,
    connectTimeoutMs: 2000,
    dnsTimeoutMs: 2000,
    ...overrides,
  });
}

/** Resolver that must never be reached. */
const noResolve = async (host: string): Promise<string[]> =>
  assert.fail(`resolver called for ${host}`);

after(assertNoLeakedHandles);

test('an allowlisted loopback address connects, half-open and echoing', async () => {
  const server = await countingServer();
  const socket = await dialer({ resolve: noResolve }).dial(tcp('127.0.0.1', server.port));
  assert.equal(socket.allowHalfOpen, true);
  assert.equal(socket.remoteAddress, '127.0.0.1');
  assert.equal(socket.readableHighWaterMark, 1024 * 1024);
  socket.end('ping');
  const chunks: Buffer[] = [];
  for await (const c of socket) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'ping');
  assert.equal(server.connections, 1);
  await server.close();
});

test('IPv6 loopback connects when allowlisted', async (t) => {
  let server;
  try {
    server = await countingServer('::1');
  } catch {
    t.skip('no IPv6 loopback here');
    return;
  }
  const socket = await dialer().dial(tcp('[::1]', server.port));
  assert.equal(socket.remoteAddress, '::1');
  socket.destroy();
  await server.close();
});

test('without an allowlist, a loopback literal is refused and nothing connects', async () => {
  const server = await countingServer();
  const d = dialer({ policy: defaultPolicy, resolve: noResolve });
  await rejectsWith(d.dial(tcp('127.0.0.1', server.port)), 'target-prohibited', /\(loopback\)/);
  await rejectsWith(
    d.dial(tcp('::ffff:127.0.0.1', server.port)),
    'target-prohibited',
    /IPv4-mapped, loopback/,
  );
  assert.equal(server.connections, 0);
  await server.close();
});

test('a name resolving to loopback is refused without an allowlist, and no connection is attempted', async () => {
  const server = await countingServer();
  const asked: string[] = [];
  let connectCalls = 0;
  const d = dialer({
    policy: defaultPolicy,
    resolve: async (host) => {
      asked.push(host);
      return ['127.0.0.1'];
    },
    connect: (opts) => {
      connectCalls++;
      return net.connect(opts);
    },
  });
  const err = await rejectsWith(d.dial(tcp('Rebind.Example.', server.port)), 'target-prohibited');
  assert.equal(
    err.details,
    'destination rebind.example resolves only to prohibited ranges (loopback)',
  );
  assert.equal(err.status, 403);
  assert.equal(err.proxyError, 'destination_ip_prohibited');
  assert.deepEqual(asked, ['rebind.example']);
  assert.equal(connectCalls, 0);
  assert.equal(server.connections, 0);
  await server.close();
});

test('mixed answers: only the permitted address is connected to, never the refused one', async (t) => {
  const allowed = await countingServer('127.0.0.1');
  let refused;
  try {
    refused = await countingServer('127.0.0.2', allowed.port);
  } catch {
    await allowed.close();
    t.skip('cannot listen on 127.0.0.2 with the same port');
    return;
  }
  const d = dialer({
    policy: compilePolicy({ allowCidrs: ['127.0.0.1/32'] }),
    resolve: async () => ['127.0.0.2', '10.0.0.1', '127.0.0.1'],
  });
  assert.deepEqual(await d.resolveAllowed(tcp('mixed.example', allowed.port)), [
    { address: '127.0.0.1', family: 4 },
  ]);
  const socket = await d.dial(tcp('mixed.example', allowed.port));
  assert.equal(socket.remoteAddress, '127.0.0.1');
  socket.destroy();
  assert.equal(refused.connections, 0);
  await once(socket, 'close');
  assert.equal(allowed.connections, 1);
  await Promise.all([allowed.close(), refused.close()]);
});

test('a name resolving to an allowlisted address connects', async () => {
  const server = await countingServer();
  const socket = await dialer({ resolve: async () => ['127.0.0.1'] }).dial(
    tcp('svc.test.example', server.port),
  );
  assert.equal(socket.remotePort, server.port);
  socket.destroy();
  await server.close();
});

test('localhost names are refused before any resolution, even with loopback allowlisted', async () => {
  const d = dialer({ resolve: noResolve });
  for (const host of ['localhost', 'localhost.', 'db.localhost']) {
    await rejectsWith(d.dial(tcp(host, 80)), 'target-prohibited', /RFC 6761/);
  }
});

test('ports are checked before anything else', async () => {
  const d = dialer({
    policy: compilePolicy({ allowCidrs: ['127.0.0.0/8'], allowPorts: [443] }),
    resolve: noResolve,
  });
  await rejectsWith(d.dial(tcp('127.0.0.1', 22)), 'port-prohibited');
  await rejectsWith(d.dial(tcp('example.com', 22)), 'port-prohibited');
  await rejectsWith(d.resolveAllowed(tcp('example.com', 22)), 'port-prohibited');
});

test('a closed port is connection-refused', async () => {
  const port = await closedPort();
  const err = await rejectsWith(dialer().dial(tcp('127.0.0.1', port)), 'connection-refused');
  assert.equal(err.status, 502);
  assert.equal(err.proxyError, 'connection_refused');
});

test('every address is tried before giving up', async () => {
  const server = await countingServer();
  const port = await closedPort();
  // 127.0.0.3 refuses (nothing there); the dialer moves on to the next answer.
  const d = dialer({ resolve: async () => ['127.0.0.3', '127.0.0.1'] });
  const socket = await d.dial(tcp('two.example', server.port));
  assert.equal(socket.remoteAddress, '127.0.0.1');
  socket.destroy();
  await rejectsWith(
    dialer({ resolve: async () => ['127.0.0.3', '127.0.0.1'] }).dial(tcp('two.example', port)),
    'connection-refused',
  );
  await server.close();
});

test('resolver failures become dns-error with the rcode in details', async () => {
  const failing = (code: string) => async (): Promise<string[]> => {
    throw Object.assign(new Error(`getaddrinfo ${code} nx.example`), { code });
  };
  const cases: Array<[string, string]> = [
    ['ENOTFOUND', 'NXDOMAIN'],
    ['ENODATA', 'NODATA'],
    ['ESERVFAIL', 'SERVFAIL'],
    ['EAI_AGAIN', 'SERVFAIL'],
    ['EREFUSED', 'REFUSED'],
    ['EWHATEVER', 'resolver failure'],
  ];
  for (const [code, rcode] of cases) {
    const err = await rejectsWith(
      dialer({ resolve: failing(code) }).dial(tcp('nx.example', 443)),
      'dns-error',
    );
    assert.equal(err.details, rcode, code);
    assert.equal(err.proxyError, 'dns_error');
    assert.equal((err.cause as { code?: string }).code, code);
  }
  await rejectsWith(
    dialer({ resolve: failing('ETIMEOUT') }).dial(tcp('slow.example', 443)),
    'dns-timeout',
  );
  await rejectsWith(
    dialer({ resolve: async () => [] }).dial(tcp('empty.example', 443)),
    'dns-error',
    /^NODATA$/,
  );
});

test('a slow resolver is dns-timeout, and it is told to stop', async () => {
  const slow = stalledResolver();
  const started = Date.now();
  const err = await rejectsWith(
    dialer({ resolve: slow.resolve, dnsTimeoutMs: 50 }).dial(tcp('slow.example', 443)),
    'dns-timeout',
  );
  // The resolver never answers: only the timeout can have ended it (the code says so); the
  // bound is only there to say it did not hang.
  assert.ok(Date.now() - started < 10_000);
  assert.equal(err.status, 504);
  assert.equal(err.proxyError, 'dns_timeout');
  assert.equal(slow.aborted(), true);
});

test('a resolver that ignores the signal is still cut off, and its late answer is dropped', async () => {
  let answerLate = (): void => {};
  const answered = new Promise<void>((done) => (answerLate = done));
  const resolve = (): Promise<string[]> =>
    new Promise((r) =>
      setTimeout(() => {
        r(['127.0.0.1']);
        answerLate();
      }, 80),
    );
  const dialing = dialer({ resolve, dnsTimeoutMs: 20 }).dial(tcp('late.example', 1));
  await rejectsWith(dialing, 'dns-timeout');
  await answered;
});

test('aborting stops the DNS wait', async () => {
  const slow = stalledResolver();
  const ac = new AbortController();
  const dialing = dialer({ resolve: slow.resolve }).dial(tcp('abort.example', 443), ac.signal);
  setImmediate(() => ac.abort(new Error('client went away')));
  await assert.rejects(dialing, /client went away/);
  assert.equal(slow.aborted(), true);
  // An already-aborted signal never reaches the resolver.
  const before = slow.calls.length;
  await assert.rejects(
    dialer({ resolve: slow.resolve }).dial(
      tcp('x.example', 443),
      AbortSignal.abort(new Error('gone')),
    ),
    /gone/,
  );
  assert.equal(slow.calls.length, before);
});

test('resolveAllowed returns a literal as is, and a name as its permitted answers', async () => {
  const d = dialer({
    policy: defaultPolicy,
    resolve: async () => ['::1', '2606:4700::1111', '93.184.215.14', '93.184.215.14'],
  });
  assert.deepEqual(await d.resolveAllowed({ host: '[2606:4700::1111]', port: 443, kind: 'udp' }), [
    { address: '2606:4700::1111', family: 6 },
  ]);
  assert.deepEqual(await d.resolveAllowed({ host: 'dual.example', port: 443, kind: 'udp' }), [
    { address: '2606:4700::1111', family: 6 },
    { address: '93.184.215.14', family: 4 },
  ]);
  await rejectsWith(
    dialer({ policy: defaultPolicy, resolve: async () => ['10.0.0.1'] }).resolveAllowed(
      tcp('inner.example', 443),
    ),
    'target-prohibited',
  );
});

test('dial is TCP only; UDP targets go through resolveAllowed', async () => {
  await rejectsWith(
    dialer().dial({ host: '127.0.0.1', port: 53, kind: 'udp' }),
    'malformed-request',
  );
});

test('the system resolver is used by default (hosts-file names only, no DNS traffic)', async (t) => {
  const { readFile } = await import('node:fs/promises');
  const hosts = await readFile('/etc/hosts', 'utf8').catch(() => '');
  // A hosts-file name for 127.0.0.1 other than localhost: answered locally by getaddrinfo.
  const name = hosts
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim().split(/\s+/))
    .filter((f) => f[0] === '127.0.0.1')
    .flatMap((f) => f.slice(1))
    .find(
      (n) =>
        /^[a-z][a-z0-9.-]*[a-z]$/i.test(n) &&
        !/(^|\.)localhost(\.|$)/i.test(n) &&
        n.includes('.') === false,
    );
  if (name === undefined) {
    t.skip('no non-localhost name for 127.0.0.1 in /etc/hosts');
    return;
  }
  const server = await countingServer();
  await rejectsWith(
    createTargetDialer({ policy: defaultPolicy, connectTimeoutMs: 1000, dnsTimeoutMs: 2000 }).dial(
      tcp(name, server.port),
    ),
    'target-prohibited',
    /loopback/,
  );
  assert.equal(server.connections, 0);
  const socket = await createTargetDialer({
    policy: compilePolicy({ allowCidrs: ['127.0.0.1/32'] }),
    connectTimeoutMs: 1000,
    dnsTimeoutMs: 2000,
  }).dial(tcp(name, server.port));
  socket.destroy();
  await server.close();
});

test('bad dialer options are config-invalid', () => {
  assert.throws(() => dialer({ connectTimeoutMs: 0 }), /config-invalid: .*connectTimeoutMs/);
  assert.throws(
    () => dialer({ dnsTimeoutMs: 1.5, localAddress: 'eth0' }),
    /dnsTimeoutMs.*localAddress "eth0"/,
  );
});

test('localAddress binds the source and limits the families tried', async () => {
  const server = await countingServer();
  const d = dialer({ localAddress: '127.0.0.9', resolve: async () => ['::1', '127.0.0.1'] });
  const socket = await d.dial(tcp('bound.example', server.port));
  assert.equal(socket.localAddress, '127.0.0.9');
  socket.destroy();
  await rejectsWith(
    dialer({ localAddress: '127.0.0.9', resolve: async () => ['::1'] }).dial(
      tcp('v6only.example', server.port),
    ),
    'destination-unreachable',
    /no IPv4 address/,
  );
  await server.close();
});
