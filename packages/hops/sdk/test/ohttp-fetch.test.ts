/**
 * ohttpFetch against a stand-in relay that is also the gateway (the @splitrelay/ohttp core
 * behind an https listener), so the client's side is tested alone: keys only from the
 * verified entry, plain and chunked answers, an unknown key sending it back to the
 * directory, a relay's token challenge, a key from elsewhere refused before sending.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  decodeRequest,
  encodeContentChunk,
  encodeIndeterminateResponseHead,
  encodeIndeterminateTail,
  encodeResponse,
} from '@splitrelay/bhttp';
import { createCa, issueCert } from '@splitrelay/devcerts';
import type { Entry } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import {
  ChunkedRequestDecoder,
  MEDIA_TYPES,
  OhttpError,
  createGateway,
  encodeKeys,
  type Gateway,
} from '@splitrelay/ohttp';
import { createSuite } from '@splitrelay/hpke';
import { checkKeysAgainstEntry, createOhttpClient, type OhttpClient } from '../src/ohttp-fetch.ts';

const T = { timeout: 20_000 };
const HOST = '127.0.0.1';

async function gatewayWith(keyId: number): Promise<Gateway> {
  const suite = createSuite({ kemId: 0x20, kdfId: 1, aeadId: 1 });
  const pair = await suite.generateKeyPair();
  return createGateway({
    keys: [
      {
        keyId,
        kemId: 0x20,
        privateKey: pair.privateKeyBytes,
        symmetric: [{ kdfId: 1, aeadId: 1 }],
      },
    ],
  });
}

let server: https.Server;
let port = 0;
let ca = '';
let gateway: Gateway;
let entryKeys: Uint8Array;
let requireToken = false;
const seenAuthorization: (string | undefined)[] = [];
const seenPaths: string[] = [];
let refreshes = 0;

const entry = (): Entry =>
  ({
    v: 1,
    id: 'egress-1',
    operator: 'k',
    endpoint: '127.0.3.1:1',
    region: 'eu',
    tlsPins: ['x'],
    notBefore: 0,
    notAfter: 2 ** 40,
    version: 1,
    ohttpKeys: Buffer.from(entryKeys).toString('base64url'),
  }) as Entry;

before(async () => {
  gateway = await gatewayWith(1);
  entryKeys = gateway.encodedKeys;
  const root = await createCa('sdk-ohttp-ca');
  ca = root.certPem;
  const leaf = await issueCert(root, {
    commonName: 'ingress.test',
    dnsNames: ['ingress.test'],
    usage: 'server',
  });
  server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        seenPaths.push(req.url ?? '');
        seenAuthorization.push(req.headers.authorization);
        if (requireToken && req.headers.authorization !== 'PrivateToken token=t') {
          res.writeHead(401, { 'www-authenticate': 'PrivateToken challenge=c' }).end();
          return;
        }
        const body = new Uint8Array(Buffer.concat(chunks));
        try {
          if (req.headers['content-type'] === MEDIA_TYPES.request) {
            const { request, context } = await gateway.decapsulateRequest(body);
            const r = decodeRequest(request).value;
            const content = new TextEncoder().encode(
              `${r.method} ${r.scheme}://${r.authority}${r.path} ${new TextDecoder().decode(r.content)}`,
            );
            res.writeHead(200, { 'content-type': MEDIA_TYPES.response }).end(
              context.encapsulateResponse(
                encodeResponse({
                  informational: [],
                  status: 203,
                  headers: [{ name: 'x-g', value: '1' }],
                  content,
                  trailers: [],
                }),
              ),
            );
          } else {
            const decoder = new ChunkedRequestDecoder(gateway);
            const parts = await decoder.push(body);
            parts.push(await decoder.end());
            const encoder = decoder.responseEncoder();
            res.writeHead(200, { 'content-type': MEDIA_TYPES.chunkedResponse });
            res.write(encoder.sealChunk(encodeIndeterminateResponseHead(200, [])));
            for (let i = 0; i < 4; i++)
              res.write(encoder.sealChunk(encodeContentChunk(Buffer.alloc(1000, i))));
            if (req.url?.startsWith('/cut/')) {
              setTimeout(() => res.destroy(), 50);
              return;
            }
            res.end(encoder.sealFinal(encodeIndeterminateTail([])));
          }
        } catch (err) {
          const e = err as OhttpError;
          res.writeHead(400, e.headers).end(e.problemJson);
        }
      })();
    });
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function client(extra: Partial<Parameters<typeof createOhttpClient>[0]> = {}): OhttpClient {
  return createOhttpClient({
    ingress: { host: HOST, port, servername: 'ingress.test', ca },
    entries: () => new Map([['egress-1', entry()]]),
    refresh: async () => {
      refreshes++;
      entryKeys = gateway.encodedKeys;
    },
    ...extra,
  });
}

test('a POST through the relay: the gateway’s answer as a Response', T, async () => {
  const c = client();
  try {
    const res = await c.fetch('https://target.example/a?b=1', { method: 'POST', body: 'hi' });
    assert.equal(res.status, 203);
    assert.equal(res.headers.get('x-g'), '1');
    assert.equal(await res.text(), 'POST https://target.example/a?b=1 hi');
    assert.equal(seenPaths.at(-1), '/.well-known/splitrelay/ohttp-relay/egress-1');
  } finally {
    c.close();
  }
});

test('chunked: the body streams; an answer cut off errors the body', T, async () => {
  const c = client({ relayPrefix: '/relay/' });
  try {
    const res = await c.fetch('https://target.example/stream', { chunked: true });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(body.length, 4000);
    assert.equal(body[3999], 3);
    const c2 = client({ relayPrefix: '/cut/' });
    try {
      const res2 = await c2.fetch('https://target.example/', { chunked: true });
      await assert.rejects(res2.arrayBuffer());
    } finally {
      c2.close();
    }
  } finally {
    c.close();
  }
});

test('an unknown key (rotated away) sends the client back to the directory, once', T, async () => {
  const c = client();
  try {
    const before = refreshes;
    gateway = await gatewayWith(2);
    const res = await c.fetch('https://target.example/after-rotation');
    assert.equal(res.status, 203);
    assert.equal(refreshes, before + 1);
  } finally {
    c.close();
  }
});

test('a relay asking for a token gets one, from the authenticator', T, async () => {
  const challenges: string[] = [];
  const c = client({
    authenticator: {
      authorization: async () => 'PrivateToken token=t',
      challenged: (h) => challenges.push(h),
    },
  });
  requireToken = true;
  try {
    const res = await c.fetch('https://target.example/paid');
    assert.equal(res.status, 203);
    assert.deepEqual(challenges, ['PrivateToken challenge=c']);
    assert.deepEqual(seenAuthorization.slice(-2), [undefined, 'PrivateToken token=t']);
  } finally {
    requireToken = false;
    c.close();
  }
});

test('keys from elsewhere are used only if the signed entry lists them all', T, async () => {
  const c = client();
  try {
    const sent = seenPaths.length;
    const foreign = (await gatewayWith(9)).encodedKeys;
    await assert.rejects(
      c.fetch('https://target.example/', { keys: foreign }),
      (err: unknown) => err instanceof RelayError && err.code === 'pin-mismatch',
    );
    assert.equal(seenPaths.length, sent, 'nothing was sent');
    const res = await c.fetch('https://target.example/', { keys: entryKeys });
    assert.equal(res.status, 203);
    const mixed = new Uint8Array([...entryKeys, ...foreign]);
    assert.throws(() => checkKeysAgainstEntry(mixed, entry()), /not in the signed directory/);
    assert.throws(() => checkKeysAgainstEntry(encodeKeys([]), entry()));
  } finally {
    c.close();
  }
});

test('no egress with a gateway in the directory: refused before sending', T, async () => {
  const c = client({
    entries: () => new Map([['egress-1', { ...entry(), ohttpKeys: undefined }]]),
  });
  try {
    await assert.rejects(
      c.fetch('https://target.example/'),
      (err: unknown) => err instanceof RelayError && err.code === 'unknown-egress',
    );
  } finally {
    c.close();
  }
});
