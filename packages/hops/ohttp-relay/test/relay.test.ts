/**
 * The relay between a real outer-hop listener (TLS, h2 and HTTP/1.1 clients) and a real trunk
 * (mTLS h2) to a stand-in gateway that records what reaches it: what crosses is only the
 * media type, the length and the body; answers come back unchanged; every refusal has its
 * status; a gateway that fails mid-answer fails the client's answer too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type tls from 'node:tls';
import { createCa, issueCert, selfSigned } from '@splitrelay/devcerts';
import { spkiPin } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import { createOuterHopServer } from '@splitrelay/outer-hop';
import { TrunkPool, createTrunkServer, type TrunkServer } from '@splitrelay/trunk';
import { RequestCredit, createOhttpRelay, type OhttpRelay } from '../src/index.ts';

const T = { timeout: 30_000 };
const HOST = '127.0.0.1';
const EGRESS = 'egress-x';
const KEYS = Uint8Array.of(0, 9, 1, 0, 0x20, 7, 0, 4, 0, 1, 0, 1);
const RELAY = '/.well-known/splitrelay/ohttp-relay/';

interface Seen {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}
const seen: Seen[] = [];
let gatewayMode: 'echo' | 'reset' | 'refuse-early' | 'silent' = 'echo';

let trunk: TrunkServer;
let pool: TrunkPool;
let outer: tls.Server;
let relay: OhttpRelay;
let port = 0;
let ca: string;
let refuseNext: RelayError | undefined;

before(async () => {
  const root = await createCa('relay-test-ca');
  ca = root.certPem;
  const ingressTls = await issueCert(root, {
    commonName: 'ingress.test',
    dnsNames: ['ingress.test'],
    usage: 'server',
  });
  const egressTls = await selfSigned({ commonName: EGRESS, usage: 'server' });
  const trunkClient = await selfSigned({ commonName: 'ingress-trunk', usage: 'client' });

  trunk = createTrunkServer({
    cert: egressTls.certPem,
    key: egressTls.keyPem,
    egressId: EGRESS,
    knownIngresses: [{ name: 'ingress-1', certPem: trunkClient.certPem }],
    handshakeTimeoutMs: 5000,
    proxyName: 'egress-test',
    onSession: (stream) => stream.destroy(),
    onRequest(stream, headers) {
      stream.on('error', () => {});
      if (gatewayMode === 'refuse-early') {
        stream.respond({ ':status': 413 });
        stream.end();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        seen.push({ headers, body: Buffer.concat(chunks) });
        if (gatewayMode === 'silent' || stream.destroyed) return;
        stream.respond({ ':status': 200, 'content-type': 'message/ohttp-res' });
        if (gatewayMode === 'reset') {
          stream.write(Buffer.alloc(100, 1));
          setTimeout(() => stream.destroy(new Error('gateway failed')), 20);
          return;
        }
        stream.end(Buffer.concat(chunks).reverse());
      });
    },
  });
  trunk.server.listen(0, HOST);
  await once(trunk.server, 'listening');
  const trunkPort = (trunk.server.address() as AddressInfo).port;

  pool = new TrunkPool({
    cert: trunkClient.certPem,
    key: trunkClient.keyPem,
    connectTimeoutMs: 5000,
  });
  const target = { id: EGRESS, host: HOST, port: trunkPort, pins: [spkiPin(egressTls.certPem)] };
  const credit = new RequestCredit({ requestsPerToken: 3 });
  relay = createOhttpRelay({
    relayPrefix: RELAY,
    keysPrefix: '/.well-known/ohttp-keys/',
    maxRequestBytes: 4096,
    maxResponseBytes: 8192,
    timeoutMs: 800,
    proxyName: 'ingress-test',
    gateway(id) {
      if (id === EGRESS) return { id, ohttpKeys: KEYS };
      if (id === 'egress-plain') return { id, ohttpKeys: undefined };
      throw new RelayError('unknown-egress', 'no such egress in the directory');
    },
    async admit(request) {
      if (refuseNext) {
        const err = refuseNext;
        refuseNext = undefined;
        throw err;
      }
      if (request.headers['x-needs-token'] !== undefined) {
        if (credit.take(request.connection)) return;
        if (request.headers.authorization !== 'PrivateToken token=good')
          throw new RelayError('token-required', 'a Privacy Pass token is required', {
            headers: { 'proxy-authenticate': 'PrivateToken challenge=abc, token-key=def' },
          });
        credit.grant(request.connection);
      }
    },
    send: (_id, headers, signal) => pool.request(target, headers, signal),
  });
  outer = createOuterHopServer({
    cert: ingressTls.certPem,
    key: ingressTls.keyPem,
    handshakeTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    maxHeaderBytes: 8192,
    proxyName: 'ingress-test',
    openTunnel: () => Promise.reject(new RelayError('unknown-egress', 'no tunnels here')),
    onRequest: (request, reply) => relay.handle(request, reply),
  });
  outer.listen(0, HOST);
  await once(outer, 'listening');
  port = (outer.address() as AddressInfo).port;
});

after(async () => {
  pool?.close();
  await new Promise<void>((resolve) => outer.close(() => resolve()));
  await new Promise<void>((resolve) => trunk.server.close(() => resolve()));
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  error?: string;
}

/** Over HTTP/1.1, one connection per call unless an agent is given. */
function h1(
  path: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer;
    agent?: https.Agent;
    hold?: boolean;
  } = {},
): Promise<Answer> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: HOST,
        port,
        path,
        method: init.method ?? 'POST',
        headers: init.headers,
        ca,
        servername: 'ingress.test',
        agent: init.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', (err) =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            error: err.message,
          }),
        );
        res.on('close', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            error: res.complete ? undefined : 'closed early',
          }),
        );
        res.on('aborted', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            error: 'aborted',
          }),
        );
      },
    );
    req.on('error', (err) =>
      resolve({ status: 0, headers: {}, body: Buffer.alloc(0), error: err.message }),
    );
    if (init.body) req.write(init.body);
    if (!init.hold) req.end();
  });
}

async function h2(path: string, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  const session = http2.connect(`https://${HOST}:${port}`, { ca, servername: 'ingress.test' });
  try {
    const stream = session.request({ ':method': 'POST', ':path': path, ...headers });
    stream.end(body);
    const [head] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return { status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) };
  } finally {
    session.destroy();
  }
}

const OHTTP = { 'content-type': 'message/ohttp-req' };

describe('relayed', T, () => {
  test('over HTTP/1.1 and h2: the answer unchanged, and nothing of the client crosses', async () => {
    const body = Buffer.from('encapsulated request');
    const leaky = {
      ...OHTTP,
      'user-agent': 'leaky/1.0',
      cookie: 'id=client-7',
      forwarded: 'for=192.0.2.7',
      'x-client': 'me',
    };
    for (const answer of [
      await h1(`${RELAY}${EGRESS}`, { headers: leaky, body }),
      await h2(`${RELAY}${EGRESS}`, leaky, body),
    ]) {
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'message/ohttp-res');
      assert.equal(answer.body.toString(), Buffer.from(body).reverse().toString());
      const got = seen.at(-1)!;
      assert.deepEqual(got.body, body);
      const names = Object.keys(got.headers).filter((k) => !k.startsWith(':'));
      assert.ok(
        names.every((n) => n === 'content-type' || n === 'content-length'),
        `only the media type and length: ${names.join(', ')}`,
      );
      assert.equal(got.headers[':authority'], EGRESS);
      assert.equal(got.headers['content-type'], 'message/ohttp-req');
      assert.ok(!JSON.stringify(got.headers).includes(HOST), 'no client address');
    }
  });

  test('the chunked media type is relayed too', async () => {
    const answer = await h1(`${RELAY}${EGRESS}`, {
      headers: { 'content-type': 'message/ohttp-chunked-req' },
      body: Buffer.from('chunks'),
    });
    assert.equal(answer.status, 200);
    assert.equal(seen.at(-1)?.headers['content-type'], 'message/ohttp-chunked-req');
  });

  test('the keys, exactly the signed entry’s bytes', async () => {
    const answer = await h1(`/.well-known/ohttp-keys/${EGRESS}`, { method: 'GET' });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/ohttp-keys');
    assert.deepEqual(new Uint8Array(answer.body), KEYS);
    assert.equal((await h1('/.well-known/ohttp-keys/egress-plain', { method: 'GET' })).status, 403);
    assert.equal((await h1('/.well-known/ohttp-keys/nowhere', { method: 'GET' })).status, 403);
  });
});

describe('refused', T, () => {
  test('wrong method 405, wrong media type 415, unknown egress or no gateway 403', async () => {
    assert.equal((await h1(`${RELAY}${EGRESS}`, { method: 'PUT', headers: OHTTP })).status, 405);
    assert.equal(
      (
        await h1(`${RELAY}${EGRESS}`, {
          headers: { 'content-type': 'text/plain' },
          body: Buffer.from('x'),
        })
      ).status,
      415,
    );
    assert.equal(
      (await h1(`${RELAY}nowhere`, { headers: OHTTP, body: Buffer.from('x') })).status,
      403,
    );
    assert.equal(
      (await h1(`${RELAY}egress-plain`, { headers: OHTTP, body: Buffer.from('x') })).status,
      403,
    );
  });

  test('oversized: declared (before the trunk) and streamed (chunked transfer) 413', async () => {
    const before = seen.length;
    assert.equal(
      (await h1(`${RELAY}${EGRESS}`, { headers: OHTTP, body: Buffer.alloc(5000) })).status,
      413,
    );
    const streamed = await h1(`${RELAY}${EGRESS}`, {
      headers: { ...OHTTP, 'transfer-encoding': 'chunked' },
      body: Buffer.alloc(5000),
    });
    assert.equal(streamed.status, 413);
    assert.equal(seen.length, before, 'the gateway never got a whole oversized body');
  });

  test('a body that never ends: 408; a gateway that never answers: 504', async () => {
    const stalled = await h1(`${RELAY}${EGRESS}`, {
      headers: { ...OHTTP, 'content-length': '100' },
      body: Buffer.alloc(10),
      hold: true,
    });
    assert.equal(stalled.status, 408);
    gatewayMode = 'silent';
    try {
      assert.equal(
        (await h1(`${RELAY}${EGRESS}`, { headers: OHTTP, body: Buffer.from('x') })).status,
        504,
      );
    } finally {
      gatewayMode = 'echo';
    }
  });

  test('the gateway’s early refusal is passed on unchanged', async () => {
    gatewayMode = 'refuse-early';
    try {
      assert.equal(
        (await h1(`${RELAY}${EGRESS}`, { headers: OHTTP, body: Buffer.from('x') })).status,
        413,
      );
    } finally {
      gatewayMode = 'echo';
    }
  });

  test('a gateway that fails mid-answer fails the client’s answer (not a clean end)', async () => {
    gatewayMode = 'reset';
    try {
      const answer = await h1(`${RELAY}${EGRESS}`, { headers: OHTTP, body: Buffer.from('x') });
      assert.equal(answer.status, 200);
      assert.ok(answer.error !== undefined, 'the client saw the answer cut off');
    } finally {
      gatewayMode = 'echo';
    }
  });

  test('admission: 429 as the caller says; a token challenge as 401 WWW-Authenticate', async () => {
    refuseNext = new RelayError('rate-limited', 'too many requests', { retryAfterSeconds: 2 });
    const limited = await h1(`${RELAY}${EGRESS}`, { headers: OHTTP, body: Buffer.from('x') });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '2');
    const bare = await h1(`${RELAY}${EGRESS}`, {
      headers: { ...OHTTP, 'x-needs-token': '1' },
      body: Buffer.from('x'),
    });
    assert.equal(bare.status, 401);
    assert.equal(bare.headers['www-authenticate'], 'PrivateToken challenge=abc, token-key=def');
  });

  test('one token per three requests on one connection, none carried to another', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ask = (token: boolean) =>
        h1(`${RELAY}${EGRESS}`, {
          headers: {
            ...OHTTP,
            'x-needs-token': '1',
            ...(token ? { authorization: 'PrivateToken token=good' } : {}),
          },
          body: Buffer.from('x'),
          agent,
        });
      assert.equal((await ask(true)).status, 200);
      assert.equal((await ask(false)).status, 200);
      assert.equal((await ask(false)).status, 200);
      assert.equal((await ask(false)).status, 401, 'the fourth needs a new token');
      const other = await h1(`${RELAY}${EGRESS}`, {
        headers: { ...OHTTP, 'x-needs-token': '1' },
        body: Buffer.from('x'),
      });
      assert.equal(other.status, 401, 'another connection has no credit');
    } finally {
      agent.destroy();
    }
  });

  test('while requests stall, a good one beside them is relayed', async () => {
    const stalled = Array.from({ length: 6 }, () =>
      h1(`${RELAY}${EGRESS}`, {
        headers: { ...OHTTP, 'content-length': '100' },
        body: Buffer.alloc(1),
        hold: true,
      }),
    );
    const good = await h2(`${RELAY}${EGRESS}`, OHTTP, Buffer.from('abc'));
    assert.equal(good.status, 200);
    assert.equal(good.body.toString(), 'cba');
    for (const s of await Promise.all(stalled)) assert.equal(s.status, 408);
  });
});
