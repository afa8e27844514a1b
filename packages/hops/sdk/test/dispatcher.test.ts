import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type tls from 'node:tls';
import { once } from 'node:events';
import { duplexPair, type Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch, type Agent } from 'undici';
import { RelayError } from '@splitrelay/errors';
// Through the source, not the package name: devcerts is only a test helper here, and a
// workspace dependency would need a lockfile change for it.
import { createCa, issueCert } from '@splitrelay/devcerts';
import { createDispatcher, flowConnector, type FlowConnector } from '../src/dispatcher.ts';
import type { Target } from '../src/index.ts';

// Each test bounds itself; a hang is a failure, not a stuck CI.
const opts = { timeout: 10_000 };

interface Seen {
  method: string | undefined;
  url: string | undefined;
  host: string | undefined;
  body: string;
  /** SNI the TLS origin received (false when none was sent), undefined over plain http. */
  servername?: string | false | null;
  alpn?: string | false | null;
}

function describe(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const socket = req.socket as tls.TLSSocket;
    const seen: Seen = {
      method: req.method,
      url: req.url,
      host: req.headers.host,
      body: Buffer.concat(chunks).toString(),
      ...(socket.encrypted ? { servername: socket.servername, alpn: socket.alpnProtocol } : {}),
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(seen));
  });
}

const origin = http.createServer(describe);
let tlsOrigin: https.Server;
/** Accepts TCP and never says a word: a TLS handshake against it can only time out. */
const silent = net.createServer((socket) => socket.on('error', () => socket.destroy()));
let ca = '';
const ports = { http: 0, https: 0, silent: 0 };

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

async function close(server: net.Server): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  if (server instanceof http.Server) server.closeAllConnections();
  else server.unref();
  await closed;
}

before(async () => {
  const authority = await createCa('splitrelay sdk test CA');
  const leaf = await issueCert(authority, {
    commonName: 'origin.test',
    dnsNames: ['origin.test', 'plain-origin.test'],
    ipAddresses: ['127.0.0.1', '::1'],
    usage: 'server',
  });
  ca = authority.certPem;
  tlsOrigin = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, describe);
  ports.http = await listen(origin);
  ports.https = await listen(tlsOrigin);
  ports.silent = await listen(silent);
});

after(async () => {
  await close(origin);
  await close(tlsOrigin);
  for (const s of silentSockets) s.destroy();
  await close(silent);
  await sleep(10);
  const live = process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Timeout|Immediate/.test(r));
  assert.deepEqual(live, [], 'a socket, server or timer was left behind');
});

const silentSockets: net.Socket[] = [];
silent.on('connection', (s: net.Socket) => silentSockets.push(s));

interface FakeConnector {
  readonly connect: FlowConnector;
  readonly targets: Target[];
  readonly flows: Duplex[];
}

/**
 * Routes without DNS: a host whose name starts with `tls`/`origin` etc. is mapped through
 * `routes` to a port on 127.0.0.1, whatever port was asked for. Hosts starting with `plain-`
 * get a plain Duplex (no net.Socket extras), as a real flow (an h2 stream) is.
 */
function fakeConnector(routes: Record<string, number>): FakeConnector {
  const targets: Target[] = [];
  const flows: Duplex[] = [];
  const connect: FlowConnector = async (target) => {
    targets.push(target);
    const port = routes[target.host];
    if (port === undefined) throw new RelayError('dns-error', 'no such test host');
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    await once(socket, 'connect');
    const flow = target.host.startsWith('plain-') ? asPlainDuplex(socket) : socket;
    flows.push(flow);
    return flow;
  };
  return { connect, targets, flows };
}

function asPlainDuplex(socket: net.Socket): Duplex {
  const [near, far] = duplexPair();
  near.pipe(socket);
  socket.pipe(near);
  const destroyAll = (): void => {
    socket.destroy();
    near.destroy();
    far.destroy();
  };
  for (const s of [socket, near, far]) s.on('error', destroyAll);
  far.on('close', destroyAll);
  socket.on('close', destroyAll);
  return far;
}

async function getJson(agent: Agent, originUrl: string, path = '/'): Promise<Seen> {
  const res = await agent.request({ origin: originUrl, path, method: 'GET' });
  assert.equal(res.statusCode, 200);
  return (await res.body.json()) as Seen;
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: unknown }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail('expected a rejection');
}

test('http origins: the flow is the connection, default port 80, kept alive', opts, async () => {
  const c = fakeConnector({ 'origin.test': ports.http });
  const agent = createDispatcher(c.connect);
  const first = await getJson(agent, 'http://origin.test', '/a?b=1');
  assert.deepEqual(first, { method: 'GET', url: '/a?b=1', host: 'origin.test', body: '' });
  // undici 8 sends a request made at once after another on a new connection while it checks
  // the idle one; once that check has run, the idle connection is reused.
  await sleep(20);
  await getJson(agent, 'http://origin.test', '/again');
  assert.deepEqual(c.targets, [{ host: 'origin.test', port: 80 }]);
  await agent.close();
  assert.ok(c.flows.every((f) => f.destroyed));
});

test('fetch(url, { dispatcher }) works over a plain Duplex flow', opts, async () => {
  const c = fakeConnector({ 'plain-origin.test': ports.http });
  const agent = createDispatcher(c.connect);
  const res = await fetch('http://plain-origin.test:8080/x', {
    method: 'POST',
    body: 'hello',
    dispatcher: agent,
  });
  const seen = (await res.json()) as Seen;
  assert.deepEqual(seen, {
    method: 'POST',
    url: '/x',
    host: 'plain-origin.test:8080',
    body: 'hello',
  });
  assert.deepEqual(c.targets, [{ host: 'plain-origin.test', port: 8080 }]);
  await agent.close();
});

test(
  'https origins: TLS end to end on the flow, SNI and certificate for the name',
  opts,
  async () => {
    const c = fakeConnector({ 'origin.test': ports.https, 'plain-origin.test': ports.https });
    const agent = createDispatcher(c.connect, { ca });
    const seen = await getJson(agent, 'https://origin.test', '/secure');
    assert.deepEqual(seen, {
      method: 'GET',
      url: '/secure',
      host: 'origin.test',
      body: '',
      servername: 'origin.test',
      alpn: 'http/1.1',
    });
    // Over a flow that is no socket at all (TLS through Node's JavaScript stream shim).
    const plain = await getJson(agent, 'https://plain-origin.test:8443');
    assert.equal(plain.servername, 'plain-origin.test');
    assert.deepEqual(c.targets, [
      { host: 'origin.test', port: 443 },
      { host: 'plain-origin.test', port: 8443 },
    ]);
    await agent.close();
  },
);

test('https to an address: checked against the address, and no SNI is sent', opts, async () => {
  const c = fakeConnector({ '127.0.0.1': ports.https, '::1': ports.https });
  const agent = createDispatcher(c.connect, { ca: [ca] });
  assert.equal((await getJson(agent, 'https://127.0.0.1:9443')).servername, false);
  assert.equal((await getJson(agent, 'https://[::1]')).servername, false);
  assert.deepEqual(c.targets, [
    { host: '127.0.0.1', port: 9443 },
    { host: '::1', port: 443 },
  ]);
  await agent.close();
});

test('an origin certificate that does not verify fails the request', opts, async () => {
  const c = fakeConnector({ 'origin.test': ports.https, 'other.test': ports.https });
  // Node's default store does not know the test CA.
  const untrusting = createDispatcher(c.connect);
  const unknownCa = await rejection(getJson(untrusting, 'https://origin.test'));
  assert.equal(unknownCa.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  await untrusting.close();

  const trusting = createDispatcher(c.connect, { ca });
  const wrongName = await rejection(getJson(trusting, 'https://other.test'));
  assert.equal(wrongName.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  await trusting.close();
  assert.ok(
    c.flows.every((f) => f.destroyed),
    'a failed flow was left open',
  );
});

test("the connector's RelayError reaches the caller as it is", opts, async () => {
  const c = fakeConnector({});
  const agent = createDispatcher(c.connect);
  const err = await rejection(getJson(agent, 'http://nowhere.test'));
  assert.ok(err instanceof RelayError);
  assert.equal(err.code, 'dns-error');
  await agent.close();
});

test('anything else the connector throws becomes a RelayError with it as cause', opts, async () => {
  const thrown = { not: 'an error' };
  const agent = createDispatcher(() => Promise.reject(thrown));
  const err = await rejection(getJson(agent, 'http://origin.test'));
  assert.ok(err instanceof RelayError);
  assert.equal(err.code, 'connection-terminated');
  assert.equal(err.cause, thrown);
  await agent.close();
});

test('a connector that does not answer in time is aborted: connection-timeout', opts, async () => {
  let signal: AbortSignal | undefined;
  const hanging: FlowConnector = (_target, s) => {
    signal = s;
    return new Promise((_resolve, reject) => {
      s?.addEventListener('abort', () => reject(new RelayError('egress-timeout', 'aborted')));
    });
  };
  const agent = createDispatcher(hanging, { connectTimeoutMs: 50 });
  const err = await rejection(getJson(agent, 'http://origin.test'));
  assert.ok(err instanceof RelayError);
  assert.equal(err.code, 'connection-timeout');
  assert.equal(signal?.aborted, true);
  await agent.close();
});

test(
  'an origin that never finishes the TLS handshake times out and its flow is closed',
  opts,
  async () => {
    const c = fakeConnector({ 'origin.test': ports.silent });
    const agent = createDispatcher(c.connect, { ca, connectTimeoutMs: 100 });
    const err = await rejection(getJson(agent, 'https://origin.test'));
    assert.ok(err instanceof RelayError);
    assert.equal(err.code, 'connection-timeout');
    await agent.close();
    assert.equal(c.flows.length, 1);
    assert.ok(c.flows[0]?.destroyed);
  },
);

test('a flow that arrives after the deadline is closed, not handed out', opts, async () => {
  let flow: net.Socket | undefined;
  const late: FlowConnector = async () => {
    await sleep(80);
    flow = net.connect({ host: '127.0.0.1', port: ports.http });
    await once(flow, 'connect');
    return flow;
  };
  const calls: Array<Error | null> = [];
  flowConnector(late, { connectTimeoutMs: 20 })(
    { hostname: 'origin.test', protocol: 'http:', port: '' },
    (err, _socket) => {
      calls.push(err);
    },
  );
  // Until the late flow has come and gone: after that nothing more can call back.
  while (!flow?.destroyed) await sleep(10);
  assert.equal(calls.length, 1);
  assert.equal((calls[0] as RelayError | null)?.code, 'connection-timeout');
});

test(
  'the callback runs once, even when the TLS socket fails after it was handed out',
  opts,
  async () => {
    const c = fakeConnector({ 'origin.test': ports.https });
    const calls: Array<[Error | null, net.Socket | tls.TLSSocket | null]> = [];
    const handedOut = new Promise<net.Socket | tls.TLSSocket | null>((resolve) => {
      flowConnector(c.connect, { ca })(
        { hostname: 'origin.test', protocol: 'https:', port: '' },
        (err, socket) => {
          calls.push([err, socket]);
          resolve(socket);
        },
      );
    });
    const socket = await handedOut;
    assert.ok(socket);
    assert.equal(calls[0]?.[0], null);
    // undici would listen for this itself; the test stands in for it.
    const errors: Error[] = [];
    socket.on('error', (err) => errors.push(err));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    c.flows[0]?.destroy(new Error('flow broke'));
    await closed;
    assert.equal(errors[0]?.message, 'flow broke');
    assert.equal(calls.length, 1);
  },
);

test('origins other than http: and https: are refused', opts, () => {
  const calls: Array<Error | null> = [];
  flowConnector(() => assert.fail('must not connect'))(
    { hostname: 'origin.test', protocol: 'ftp:', port: '21' },
    (err, _socket) => {
      calls.push(err);
    },
  );
  assert.equal(calls.length, 1);
  assert.ok(calls[0] instanceof RelayError);
  assert.equal(calls[0].code, 'malformed-request');
});
