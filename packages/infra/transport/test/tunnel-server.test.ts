/**
 * The tunnel server skeleton over in-process byte streams (stream.duplexPair): real TLS, real
 * ALPN, real Node HTTP/1.1 and h2 servers, no sockets. Each test builds a small relay from the
 * skeleton and runTunnel the way the ingress and the egress do, with an in-memory upstream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import tls from 'node:tls';
import { Duplex, duplexPair } from 'node:stream';
import { RelayError, parseProxyStatus } from '@splitrelay/errors';
import { selfSigned } from '@splitrelay/devcerts';
import {
  createTunnelServer,
  refuseOnResponse,
  refuseOnSocket,
  refuseOnStream,
  runTunnel,
  splice,
  type Alpn,
  type TunnelServer,
} from '../src/index.ts';

const opts = { timeout: 10_000 };
const identity = await selfSigned({
  commonName: 'relay.test',
  dnsNames: ['relay.test'],
  usage: 'server',
});
const secureContext = tls.createSecureContext({ cert: identity.certPem, key: identity.keyPem });
const PROXY = 'test-relay';

interface Recorder {
  refusals: { code: string; decided: string | undefined }[];
  skeletonRefusals: { code: string; alpn: Alpn }[];
  upstreams: Duplex[];
}

/** How the test relay's `open` behaves for one target. */
type Opener = (target: string, signal: AbortSignal) => Promise<Duplex>;

/** An upstream that echoes what it gets: the far end of an in-memory pair. */
function echoUpstream(rec: Recorder): Duplex {
  const [near, far] = duplexPair();
  far.pipe(far);
  rec.upstreams.push(near);
  return near;
}

function relay(open: Opener, rec: Recorder, maxHeaderBytes = 1024): TunnelServer {
  const start = (
    authority: string,
    downstream: Duplex,
    accept: () => void,
    refuse: (err: RelayError) => void,
  ): void =>
    void runTunnel({
      downstream,
      decide: () => {
        if (!/^[a-z.]+:\d+$/.test(authority))
          throw new RelayError('malformed-request', 'bad target');
        return authority;
      },
      open,
      accept,
      join: (upstream) => splice(downstream, upstream),
      refuse: (err, decided) => {
        rec.refusals.push({ code: err.code, decided });
        refuse(err);
      },
    });
  return createTunnelServer({
    proxyName: PROXY,
    maxHeaderBytes,
    handshakeTimeoutMs: 300,
    onRefusal: (err, alpn) => rec.skeletonRefusals.push({ code: err.code, alpn }),
    onConnect: (req, socket) =>
      start(
        req.url ?? '',
        socket,
        () => socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'),
        (err) => refuseOnSocket(socket, PROXY, err),
      ),
    onRequest: (_req, res) =>
      refuseOnResponse(res, PROXY, new RelayError('method-not-allowed', 'CONNECT only')),
    onStream: (stream, headers) => {
      if (headers[':method'] !== 'CONNECT') {
        refuseOnStream(stream, PROXY, new RelayError('method-not-allowed', 'CONNECT only'));
        return;
      }
      start(
        headers[':authority'] ?? '',
        stream,
        () => stream.respond({ ':status': 200 }),
        (err) => refuseOnStream(stream, PROXY, err),
      );
    },
  });
}

const recorder = (): Recorder => ({ refusals: [], skeletonRefusals: [], upstreams: [] });

/**
 * A client TLS connection to the skeleton over an in-memory pair. The raw end stands for the
 * client's TCP connection: destroying it is the client going away, and its 'end' is the server
 * closing (a TLS socket over a plain Duplex does not always pass that end on).
 */
const rawOf = new WeakMap<tls.TLSSocket, Duplex>();
const serverEndOf = new WeakMap<tls.TLSSocket, Duplex>();
async function connect(server: TunnelServer, alpn: Alpn): Promise<tls.TLSSocket> {
  const [serverEnd, clientEnd] = duplexPair();
  clientEnd.on('error', () => {});
  server.serveDuplex(serverEnd, secureContext);
  const client = tls.connect({
    socket: clientEnd,
    servername: 'relay.test',
    ca: identity.certPem,
    ALPNProtocols: [alpn],
  });
  client.on('error', () => {});
  rawOf.set(client, clientEnd);
  serverEndOf.set(client, serverEnd);
  await once(client, 'secureConnect');
  assert.equal(client.alpnProtocol, alpn);
  return client;
}

/** Reads an HTTP/1.1 response head (and whatever body came with it) until the socket ends. */
async function readAll(socket: Duplex): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

/** Reads until `needle` has arrived; returns everything read so far. */
async function readUntil(socket: Duplex, needle: string): Promise<string> {
  let text = '';
  while (!text.includes(needle)) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    text += chunk.toString('latin1');
  }
  return text;
}

function raw(client: tls.TLSSocket): Duplex {
  return rawOf.get(client) as Duplex;
}

/** The client's connection is reset: the server's carrier fails, as a socket would. */
function reset(client: tls.TLSSocket): void {
  raw(client).destroy();
  serverEndOf.get(client)?.destroy(new Error('connection reset'));
}

/** Waits (a tick at a time, within the test's own timeout) until `condition` holds. */
async function eventually(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 1));
}

/** Resolves once the server side ended or closed the connection. */
async function serverClosed(client: tls.TLSSocket): Promise<void> {
  const end = raw(client);
  if (!end.readableEnded && !end.destroyed) await once(end, 'end');
}

function h2Session(socket: tls.TLSSocket): http2.ClientHttp2Session {
  const session = http2.connect('https://relay.test', { createConnection: () => socket });
  session.on('error', () => {});
  return session;
}

test(
  'HTTP/1.1 CONNECT accepted: 200, then bytes both ways through the upstream',
  opts,
  async () => {
    const rec = recorder();
    const server = relay(async () => echoUpstream(rec), rec);
    const client = await connect(server, 'http/1.1');
    client.write('CONNECT target.test:443 HTTP/1.1\r\nHost: target.test:443\r\n\r\nearly');
    const head = await readUntil(client, 'early');
    assert.match(head, /^HTTP\/1\.1 200 Connection Established\r\n\r\n/);
    // Bytes sent together with the head are not lost: they reached the upstream and came back.
    assert.ok(head.endsWith('early'));
    client.write('ping');
    assert.equal(await readUntil(client, 'ping'), 'ping');
    assert.equal(server.connections, 1);
    reset(client);
    await once(rec.upstreams[0] as Duplex, 'close');
    server.close();
    assert.deepEqual(rec.refusals, []);
  },
);

test('h2 CONNECT accepted on the h2 ALPN path: 200, bytes both ways', opts, async () => {
  const rec = recorder();
  const server = relay(async () => echoUpstream(rec), rec);
  const session = h2Session(await connect(server, 'h2'));
  const stream = session.request({ ':method': 'CONNECT', ':authority': 'target.test:443' });
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  assert.equal(headers[':status'], 200);
  stream.write('hello over h2');
  assert.equal(await readUntil(stream, 'h2'), 'hello over h2');
  // A second stream on the same session is a second tunnel.
  const second = session.request({ ':method': 'CONNECT', ':authority': 'other.test:443' });
  assert.equal(
    ((await once(second, 'response')) as [http2.IncomingHttpHeaders])[0][':status'],
    200,
  );
  assert.equal(rec.upstreams.length, 2);
  session.destroy();
  server.close();
});

test(
  'a refused open is answered once, with its status and Proxy-Status, on both ALPNs',
  opts,
  async () => {
    const rec = recorder();
    const server = relay(async () => {
      throw new RelayError('target-prohibited', 'not this one');
    }, rec);

    const h1 = await connect(server, 'http/1.1');
    h1.write('CONNECT target.test:443 HTTP/1.1\r\nHost: target.test:443\r\n\r\n');
    const text = await readAll(h1);
    assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(
      text,
      /\r\nProxy-Status: test-relay; error=destination_ip_prohibited; details="not this one"\r\n/,
    );
    assert.match(text, /\r\nConnection: close\r\n/);
    assert.ok(text.endsWith('\r\n\r\nnot this one\n'));

    const session = h2Session(await connect(server, 'h2'));
    const stream = session.request({ ':method': 'CONNECT', ':authority': 'target.test:443' });
    const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
    assert.equal(headers[':status'], 403);
    assert.equal(
      parseProxyStatus(String(headers['proxy-status']))[0]?.error,
      'destination_ip_prohibited',
    );
    assert.equal(parseProxyStatus(String(headers['proxy-status']))[0]?.details, 'not this one');
    // No body: a refusal never waits on the client's flow-control window.
    assert.equal(await readAll(stream), '');
    session.destroy();

    assert.deepEqual(rec.refusals, [
      { code: 'target-prohibited', decided: 'target.test:443' },
      { code: 'target-prohibited', decided: 'target.test:443' },
    ]);
    server.close();
  },
);

test('a request the decide phase refuses never reaches open', opts, async () => {
  const rec = recorder();
  let opened = 0;
  const server = relay(async () => {
    opened++;
    return echoUpstream(rec);
  }, rec);
  const session = h2Session(await connect(server, 'h2'));
  const stream = session.request({ ':method': 'CONNECT', ':authority': 'BAD_TARGET:1' });
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  assert.equal(headers[':status'], 400);
  assert.equal(opened, 0);
  assert.deepEqual(rec.refusals, [{ code: 'malformed-request', decided: undefined }]);
  // Not CONNECT at all: the handler's own refusal.
  const get = session.request({ ':method': 'GET', ':path': '/' });
  assert.equal(((await once(get, 'response')) as [http2.IncomingHttpHeaders])[0][':status'], 405);
  session.destroy();
  server.close();
});

for (const alpn of ['http/1.1', 'h2'] as const) {
  test(
    `${alpn}: the downstream going away during open aborts the open, and nothing is answered`,
    opts,
    async () => {
      const rec = recorder();
      let seen: AbortSignal | undefined;
      const server = relay(
        (_target, signal) =>
          new Promise<Duplex>((_resolve, reject) => {
            seen = signal;
            signal.addEventListener('abort', () =>
              reject(new RelayError('connection-timeout', 'aborted')),
            );
          }),
        rec,
      );
      const client = await connect(server, alpn);
      if (alpn === 'h2') {
        const session = h2Session(client);
        const stream = session.request({ ':method': 'CONNECT', ':authority': 'target.test:443' });
        stream.on('error', () => {});
        while (seen === undefined) await new Promise((r) => setImmediate(r));
        stream.close(http2.constants.NGHTTP2_CANCEL);
        await once(seen, 'abort');
        session.destroy();
      } else {
        client.write('CONNECT target.test:443 HTTP/1.1\r\nHost: target.test:443\r\n\r\n');
        while (seen === undefined) await new Promise((r) => setImmediate(r));
        reset(client);
        await once(seen, 'abort');
      }
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(rec.refusals, [{ code: 'connection-timeout', decided: 'target.test:443' }]);
      server.close();
    },
  );
}

test('an upstream that opens after the client left is disposed of, not leaked', opts, async () => {
  const rec = recorder();
  let release: (() => void) | undefined;
  const server = relay(
    // A dialler that ignores the signal and answers late.
    () => new Promise<Duplex>((resolve) => (release = () => resolve(echoUpstream(rec)))),
    rec,
  );
  const client = await connect(server, 'http/1.1');
  client.write('CONNECT target.test:443 HTTP/1.1\r\nHost: target.test:443\r\n\r\n');
  while (release === undefined) await new Promise((r) => setImmediate(r));
  reset(client);
  await new Promise((r) => setTimeout(r, 20));
  release();
  const upstream = await (async () => {
    while (rec.upstreams.length === 0) await new Promise((r) => setImmediate(r));
    return rec.upstreams[0] as Duplex;
  })();
  if (!upstream.destroyed) await once(upstream, 'close');
  assert.equal(upstream.destroyed, true);
  assert.deepEqual(rec.refusals, []);
  server.close();
});

test('HTTP/1.1 garbage gets 400 with Proxy-Status, and the connection ends', opts, async () => {
  const rec = recorder();
  const server = relay(async () => echoUpstream(rec), rec);
  const client = await connect(server, 'http/1.1');
  client.write('\x00\x01\x02 not http at all\r\n\r\n');
  const text = await readAll(client);
  assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(text, /Proxy-Status: test-relay; error=http_request_error/);
  assert.deepEqual(rec.skeletonRefusals, [{ code: 'malformed-request', alpn: 'http/1.1' }]);
  assert.equal(rec.upstreams.length, 0);
  server.close();
});

test('an oversized HTTP/1.1 head gets 431', opts, async () => {
  const rec = recorder();
  const server = relay(async () => echoUpstream(rec), rec, 1024);
  const client = await connect(server, 'http/1.1');
  client.write(
    `CONNECT target.test:443 HTTP/1.1\r\nHost: target.test:443\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`,
  );
  const text = await readAll(client);
  assert.match(text, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.deepEqual(rec.skeletonRefusals, [{ code: 'headers-too-large', alpn: 'http/1.1' }]);
  assert.equal(rec.upstreams.length, 0);
  server.close();
});

test(
  'HTTP/1.1 requests other than CONNECT go to onRequest and are refused with 405',
  opts,
  async () => {
    const rec = recorder();
    const server = relay(async () => echoUpstream(rec), rec);
    const client = await connect(server, 'http/1.1');
    client.write('GET / HTTP/1.1\r\nHost: relay.test\r\n\r\n');
    const text = await readUntil(client, 'CONNECT only\n');
    assert.match(text, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    assert.match(text, /\r\nproxy-status: test-relay; error=http_request_denied/i);
    assert.match(text, /\r\nconnection: close\r\n/i);
    client.destroy();
    server.close();
  },
);

test('h2 garbage instead of the connection preface closes that connection only', opts, async () => {
  const rec = recorder();
  const server = relay(async () => echoUpstream(rec), rec);
  const bad = await connect(server, 'h2');
  bad.write('GET / HTTP/1.1\r\n\r\n'.repeat(4));
  await serverClosed(bad);
  await eventually(() => server.connections === 0);
  // The skeleton serves the next connection as if nothing happened.
  const session = h2Session(await connect(server, 'h2'));
  const stream = session.request({ ':method': 'CONNECT', ':authority': 'target.test:443' });
  assert.equal(
    ((await once(stream, 'response')) as [http2.IncomingHttpHeaders])[0][':status'],
    200,
  );
  session.destroy();
  server.close();
});

test(
  'a byte stream that never completes its TLS handshake is destroyed at the deadline',
  opts,
  async () => {
    const rec = recorder();
    const server = relay(async () => echoUpstream(rec), rec);
    const [serverEnd, clientEnd] = duplexPair();
    const started = performance.now();
    server.serveDuplex(serverEnd, secureContext);
    clientEnd.on('error', () => {});
    clientEnd.resume();
    assert.equal(server.connections, 1);
    await once(clientEnd, 'end');
    assert.ok(performance.now() - started >= 250);
    await eventually(() => server.connections === 0);
    server.close();
  },
);

test('close destroys every open connection', opts, async () => {
  const rec = recorder();
  const server = relay(async () => echoUpstream(rec), rec);
  const a = await connect(server, 'h2');
  const b = await connect(server, 'http/1.1');
  assert.equal(server.connections, 2);
  server.close();
  await Promise.all([serverClosed(a), serverClosed(b)]);
  await eventually(() => server.connections === 0);
});

test(
  'runTunnel: a join that throws destroys both sides; a refusal that throws ends the downstream',
  opts,
  async () => {
    const [down, downFar] = duplexPair();
    downFar.resume();
    const [up] = duplexPair();
    let refused = 0;
    await runTunnel({
      downstream: down,
      decide: () => 'x',
      open: async () => up,
      accept: () => {},
      join: () => {
        throw new Error('join failed');
      },
      refuse: () => refused++,
    });
    assert.equal(down.destroyed, true);
    assert.equal(up.destroyed, true);
    assert.equal(refused, 0, 'a tunnel already answered is not answered again');

    const [down2] = duplexPair();
    await runTunnel({
      downstream: down2,
      decide: () => {
        throw new Error('not a RelayError');
      },
      open: async () => up,
      accept: () => {},
      join: () => {},
      refuse: (err) => {
        // Anything thrown becomes a RelayError before it is answered.
        assert.ok(err instanceof RelayError);
        throw new Error('writer failed');
      },
    });
    assert.equal(down2.destroyed, true);
  },
);

test(
  'runTunnel: an accept that fails disposes of the opened upstream and refuses',
  opts,
  async () => {
    const [down] = duplexPair();
    let closed = false;
    const udpLike = { close: () => (closed = true) };
    const codes: string[] = [];
    await runTunnel({
      downstream: down,
      decide: () => 'x',
      open: async () => udpLike,
      accept: async () => {
        throw new RelayError('malformed-request', 'handshake refused');
      },
      join: () => assert.fail('never joined'),
      refuse: (err, decided) => codes.push(`${err.code}:${decided}`),
    });
    assert.equal(closed, true);
    assert.deepEqual(codes, ['malformed-request:x']);
    down.destroy();
  },
);
