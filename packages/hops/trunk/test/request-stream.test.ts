/**
 * Plain request streams on the trunk (what the Oblivious HTTP relay sends): a POST from the
 * pool reaches the egress's `onRequest` with exactly the headers sent, shares the pooled
 * connection with CONNECT sessions, and is refused when it names another egress. Without
 * the hook, a trunk still carries only CONNECT.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { spkiPin } from '@splitrelay/directory';
import { TrunkPool, createTrunkServer, type TrunkServer } from '../src/index.ts';
import { EGRESS_CERT, EGRESS_KEY, INGRESS_CERT, INGRESS_KEY } from './fixtures.ts';

const T = { timeout: 20_000 };
const HOST = '127.0.0.1';
const EGRESS_ID = 'egress-r';

const seen: { headers: http2.IncomingHttpHeaders; ingress: string }[] = [];
const servers: TrunkServer[] = [];
const pools: TrunkPool[] = [];

async function listen(withHook: boolean): Promise<number> {
  const trunk = createTrunkServer({
    cert: EGRESS_CERT,
    key: EGRESS_KEY,
    egressId: EGRESS_ID,
    knownIngresses: [{ name: 'ingress-a', certPem: INGRESS_CERT }],
    handshakeTimeoutMs: 5000,
    proxyName: 'egress-test',
    onSession: (stream) => stream.pipe(stream),
    ...(withHook
      ? {
          onRequest(
            stream: http2.ServerHttp2Stream,
            headers: http2.IncomingHttpHeaders,
            ingress: string,
          ) {
            seen.push({ headers, ingress });
            const chunks: Buffer[] = [];
            stream.on('data', (c: Buffer) => chunks.push(c));
            stream.on('end', () => {
              stream.respond({ ':status': 200, 'content-type': 'text/plain' });
              stream.end(Buffer.concat(chunks).reverse());
            });
          },
        }
      : {}),
  });
  servers.push(trunk);
  trunk.server.listen(0, HOST);
  await once(trunk.server, 'listening');
  return (trunk.server.address() as AddressInfo).port;
}

let hooked = 0;
let plain = 0;
before(async () => {
  hooked = await listen(true);
  plain = await listen(false);
});
after(async () => {
  for (const p of pools) p.close();
  await Promise.all(
    servers.map((s) => new Promise<void>((resolve) => s.server.close(() => resolve()))),
  );
});

function pool(): TrunkPool {
  const p = new TrunkPool({ cert: INGRESS_CERT, key: INGRESS_KEY, connectTimeoutMs: 5000 });
  pools.push(p);
  return p;
}
const target = (port: number) => ({
  id: EGRESS_ID,
  host: HOST,
  port,
  pins: [spkiPin(EGRESS_CERT)],
});

async function answer(stream: http2.ClientHttp2Stream): Promise<{ status: number; body: string }> {
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { status: Number(headers[':status']), body: Buffer.concat(chunks).toString() };
}

test(
  'a POST reaches onRequest with only the headers sent, beside a CONNECT session',
  T,
  async () => {
    const p = pool();
    const session = await p.open(target(hooked));
    const stream = await p.request(target(hooked), {
      ':method': 'POST',
      ':path': '/gateway',
      ':authority': EGRESS_ID,
      'content-type': 'message/ohttp-req',
    });
    stream.end('abc');
    assert.deepEqual(await answer(stream), { status: 200, body: 'cba' });
    assert.deepEqual(p.connectionCounts(), { [EGRESS_ID]: 1 }, 'one pooled connection for both');
    session.destroy();
    const got = seen.at(-1);
    assert.equal(got?.ingress, 'ingress-a');
    assert.deepEqual(
      Object.keys(got?.headers ?? {})
        .filter((k) => !k.startsWith(':'))
        .sort(),
      ['content-type'],
    );
  },
);

test('a request naming another egress is refused before the hook', T, async () => {
  const before = seen.length;
  const stream = await pool().request(target(hooked), {
    ':method': 'POST',
    ':path': '/gateway',
    ':authority': 'someone-else',
  });
  stream.end();
  assert.equal((await answer(stream)).status, 403);
  assert.equal(seen.length, before);
});

test('without the hook, a trunk carries only CONNECT', T, async () => {
  const stream = await pool().request(target(plain), {
    ':method': 'POST',
    ':path': '/gateway',
    ':authority': EGRESS_ID,
  });
  stream.end('x');
  assert.equal((await answer(stream)).status, 405);
});
