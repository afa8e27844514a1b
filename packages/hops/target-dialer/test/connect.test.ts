import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { compilePolicy, type Target } from '@splitrelay/target-policy';
import {
  connectError,
  createTargetDialer,
  interleave,
  type Connect,
  type TargetDialerOptions,
} from '../src/index.ts';
import {
  assertNoLeakedHandles,
  blackholeListener,
  countingServer,
  rejectsWith,
} from './helpers.ts';

const policy = compilePolicy({ allowCidrs: ['127.0.0.0/8', '::1/128'] });
const tcp = (host: string, port: number): Target => ({ host, port, kind: 'tcp' });

function dialer(
  overrides: Partial<TargetDialerOptions> = {},
): ReturnType<typeof createTargetDialer> {
  return createTargetDialer({ policy, connectTimeoutMs: 2000, dnsTimeoutMs: 2000, ...overrides });
}

/**
 * A connect function that never connects to the addresses in `stall` (an unconnected Socket
 * that just sits there) and really connects elsewhere; it records every socket it made.
 */
function stallingConnect(stall: readonly string[]): {
  connect: Connect;
  made: Array<{ host: string; socket: net.Socket }>;
} {
  const made: Array<{ host: string; socket: net.Socket }> = [];
  const connect: Connect = (opts) => {
    const host = opts.host ?? '';
    const socket = stall.includes(host) ? new net.Socket() : net.connect(opts);
    made.push({ host, socket });
    return socket;
  };
  return { connect, made };
}

after(assertNoLeakedHandles);

test('a connect that never completes is connection-timeout, and its socket is destroyed', async () => {
  const { connect, made } = stallingConnect(['127.0.0.1']);
  const started = Date.now();
  const err = await rejectsWith(
    dialer({ connect, connectTimeoutMs: 60 }).dial(tcp('127.0.0.1', 9)),
    'connection-timeout',
  );
  assert.ok(Date.now() - started >= 55);
  assert.equal(err.status, 504);
  assert.equal(err.proxyError, 'connection_timeout');
  assert.equal(err.details, '127.0.0.1:9: no connection within 60 ms');
  assert.equal(made.length, 1);
  assert.equal(made[0]?.socket.destroyed, true);
});

test('a real connect timeout on loopback: a listener whose accept queue is full', async (t) => {
  const blackhole = await blackholeListener();
  if (blackhole === undefined) {
    t.skip(
      'this kernel completes handshakes beyond the accept queue; covered by the injected test',
    );
    return;
  }
  try {
    await rejectsWith(
      dialer({ connectTimeoutMs: 150 }).dial(tcp('127.0.0.1', blackhole.port)),
      'connection-timeout',
    );
  } finally {
    await blackhole.close();
  }
});

test('Happy Eyeballs-lite: a stalled first address loses to the next one after the attempt delay', async () => {
  const server = await countingServer();
  const { connect, made } = stallingConnect(['::1']);
  const d = dialer({ connect, attemptDelayMs: 30, resolve: async () => ['::1', '127.0.0.1'] });
  const started = Date.now();
  const socket = await d.dial(tcp('dual.example', server.port));
  assert.ok(Date.now() - started >= 25);
  assert.equal(socket.remoteAddress, '127.0.0.1');
  assert.deepEqual(
    made.map((m) => m.host),
    ['::1', '127.0.0.1'],
  );
  assert.equal(made[0]?.socket.destroyed, true);
  assert.equal(socket.destroyed, false);
  socket.destroy();
  await server.close();
});

test('the connect timeout bounds the whole phase, across addresses', async () => {
  const { connect, made } = stallingConnect(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
  const d = dialer({
    connect,
    attemptDelayMs: 20,
    connectTimeoutMs: 100,
    resolve: async () => ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
  });
  const err = await rejectsWith(d.dial(tcp('many.example', 443)), 'connection-timeout');
  assert.equal(err.details, '3 addresses, port 443: no connection within 100 ms');
  assert.equal(made.length, 3);
  assert.ok(made.every((m) => m.socket.destroyed));
});

test('aborting stops a pending connect and destroys its socket', async () => {
  const { connect, made } = stallingConnect(['127.0.0.1']);
  const ac = new AbortController();
  const dialing = dialer({ connect }).dial(tcp('127.0.0.1', 443), ac.signal);
  setTimeout(() => ac.abort(new Error('stream reset')), 20);
  await assert.rejects(dialing, /stream reset/);
  assert.equal(made[0]?.socket.destroyed, true);
});

test('connect errors map to RFC 9209 types', async () => {
  const emitting =
    (code: string): Connect =>
    () => {
      const s = new net.Socket();
      setImmediate(() => s.emit('error', Object.assign(new Error(code), { code })));
      return s;
    };
  const cases: Array<[string, string]> = [
    ['ECONNREFUSED', 'connection-refused'],
    ['EHOSTUNREACH', 'destination-unreachable'],
    ['ENETUNREACH', 'destination-unreachable'],
    ['ETIMEDOUT', 'connection-timeout'],
    ['ECONNRESET', 'connection-terminated'],
    ['EACCES', 'destination-unreachable'],
  ];
  for (const [code, relayCode] of cases) {
    const err = await rejectsWith(
      dialer({ connect: emitting(code) }).dial(tcp('127.0.0.1', 80)),
      relayCode as 'connection-refused',
    );
    assert.equal((err.cause as { code?: string }).code, code);
  }
  assert.equal(
    connectError(Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }), '[::1]:80').details,
    '[::1]:80 is unreachable (EHOSTUNREACH)',
  );
  // A connect function that throws is a failed attempt like any other.
  await rejectsWith(
    dialer({
      connect: () => {
        throw Object.assign(new Error('nope'), { code: 'ENETUNREACH' });
      },
    }).dial(tcp('127.0.0.1', 80)),
    'destination-unreachable',
  );
});

test('the socket is opened with the policy-checked IP, half-open and no-delay, and never a name', async () => {
  const seen: net.TcpNetConnectOpts[] = [];
  const server = await countingServer();
  const d = dialer({
    resolve: async () => ['127.0.0.1'],
    connect: (opts) => {
      seen.push(opts);
      return net.connect(opts);
    },
  });
  const socket = await d.dial(tcp('opts.example', server.port));
  socket.destroy();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.host, '127.0.0.1');
  assert.equal(seen[0]?.family, 4);
  assert.equal(seen[0]?.allowHalfOpen, true);
  assert.equal(seen[0]?.noDelay, true);
  // The lookup hook refuses, so even a name passed by mistake could not resolve behind the policy.
  const lookup = seen[0]?.lookup;
  assert.ok(lookup !== undefined);
  const failure = await new Promise<NodeJS.ErrnoException | null>((r) =>
    lookup('example.com', {}, (err) => r(err)),
  );
  assert.equal(failure?.code, 'EINVAL');
  await server.close();
});

test('interleave alternates families starting with the first answer (RFC 8305 §4)', () => {
  const a = (address: string) => ({
    address,
    family: address.includes(':') ? (6 as const) : (4 as const),
  });
  assert.deepEqual(
    interleave([a('::1'), a('::2'), a('::3'), a('1.1.1.1'), a('1.1.1.2')]).map((x) => x.address),
    ['::1', '1.1.1.1', '::2', '1.1.1.2', '::3'],
  );
  assert.deepEqual(
    interleave([a('1.1.1.1'), a('::1')]).map((x) => x.address),
    ['1.1.1.1', '::1'],
  );
  assert.deepEqual(interleave([]), []);
});
