/**
 * The gateway on loopback: requests performed through the target policy, plain and chunked;
 * DoH to a resolver; every refusal with its status, unencapsulated before decryption and
 * encapsulated after; keys replaced and retired while it runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeRequest } from '@splitrelay/bhttp';
import { encapsulateRequest, MEDIA_TYPES, OHTTP_KEY_PROBLEM_TYPE } from '@splitrelay/ohttp';
import { parseProxyStatus } from '@splitrelay/errors';
import { addKey, retireKey, type KeyRing } from '../src/index.ts';
import {
  bhttpRequest,
  chunkedExchange,
  dnsQuery,
  dnsResponder,
  exchange,
  harness,
  httpTarget,
  post,
  HOST,
  type Harness,
} from './helpers.ts';

const T = { timeout: 30_000 };
const EMPTY: KeyRing = { v: 1, keys: [] };

let ring: KeyRing;
let target: Awaited<ReturnType<typeof httpTarget>>;
let h: Harness;

before(async () => {
  ring = (await addKey(EMPTY, 'x25519')).ring;
  ring = (await addKey(ring, 'x-wing', ['chacha20-poly1305'])).ring;
  target = await httpTarget();
  h = await harness(ring);
});
after(async () => {
  await h?.close();
  await target?.close();
});

const url = (path: string, host = `${HOST}:${target.port}`) => `http://${host}${path}`;

describe('requests are performed', T, () => {
  test('a POST with fields and content, with each published key (X25519 and X-Wing)', async () => {
    for (const config of await h.configs()) {
      const { answer, response } = await exchange(
        h,
        bhttpRequest(url('/hello?q=1'), {
          method: 'POST',
          headers: [{ name: 'x-asked', value: `kem-${config.kemId}` }],
          content: new TextEncoder().encode('body'),
        }),
        config,
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], MEDIA_TYPES.response);
      assert.equal(response?.status, 201);
      assert.equal(
        new TextDecoder().decode(response?.content),
        `POST /hello?q=1 kem-${config.kemId} body`,
      );
      assert.ok(response?.headers.some((f) => f.name === 'x-target' && f.value === 'yes'));
    }
  });

  test('a name resolved at the gateway, through the policy', async () => {
    const { response } = await exchange(
      h,
      bhttpRequest(url('/named', `target.test:${target.port}`)),
    );
    assert.equal(response?.status, 201);
  });

  test('chunked: a 1 MiB answer streams back in chunks', async () => {
    const { answer, status, content } = await chunkedExchange(h, bhttpRequest(url('/big')));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], MEDIA_TYPES.chunkedResponse);
    assert.equal(status, 200);
    assert.equal(content?.length, 1024 * 1024);
    assert.equal(content?.[64 * 1024 * 15], 15);
  });

  test('the relay sees no target: the only fields the target gets are the client’s', async () => {
    const before = target.seen.length;
    await exchange(h, bhttpRequest(url('/fields'), { headers: [{ name: 'x-asked', value: 'a' }] }));
    const seen = target.seen[before];
    assert.deepEqual(
      Object.keys(seen?.headers ?? {}).sort(),
      ['connection', 'host', 'x-asked'],
      'nothing added by the gateway',
    );
  });
});

describe('refusals after decryption travel inside the encapsulation', T, () => {
  test('a private address (by literal and by name) is refused by the policy', async () => {
    for (const authority of ['10.0.0.1:80', 'private.test', `127.0.0.2:${target.port}`]) {
      const { answer, response } = await exchange(h, bhttpRequest(`http://${authority}/`));
      assert.equal(answer.status, 200, 'the encapsulation itself succeeded');
      assert.equal(response?.status, 403, authority);
      const ps = parseProxyStatus(
        response?.headers.find((f) => f.name === 'proxy-status')?.value ?? '',
      );
      assert.equal(ps[0]?.error, 'destination_ip_prohibited', authority);
    }
  });

  test('an unknown name, a refused scheme, a CONNECT', async () => {
    const cases: [ReturnType<typeof bhttpRequest>, number][] = [
      [bhttpRequest('http://nowhere.test/'), 502],
      [bhttpRequest(url('/'), { scheme: 'ftp' }), 400],
      [bhttpRequest(url('/'), { method: 'CONNECT' }), 405],
    ];
    for (const [request, status] of cases) {
      const { response } = await exchange(h, request);
      assert.equal(response?.status, status);
    }
  });

  test('malformed Binary HTTP is a 400 only the client reads', async () => {
    const [config] = await h.configs();
    const { encapsulatedRequest, context } = await encapsulateRequest(
      config!,
      Uint8Array.of(0, 3, 0x47, 0x45),
    );
    const answer = await post(h.session, MEDIA_TYPES.request, [encapsulatedRequest]);
    assert.equal(answer.status, 200);
    const response = context.decapsulateResponse(answer.body);
    assert.ok(response.length > 0);
  });

  test('a target answer over the size limit is refused inside', async () => {
    const { response } = await exchange(h, bhttpRequest(url('/huge')));
    assert.equal(response?.status, 502);
  });
});

describe('refusals before decryption are the fixed, unencapsulated answers', T, () => {
  async function sealed(): Promise<Uint8Array> {
    const [config] = await h.configs();
    return (await encapsulateRequest(config!, encodeRequest(bhttpRequest(url('/')))))
      .encapsulatedRequest;
  }

  test('an unknown key id: 400 with the RFC 9458 §5.3 problem', async () => {
    const bytes = Uint8Array.from(await sealed());
    bytes[0] = 200;
    const answer = await post(h.session, MEDIA_TYPES.request, [bytes]);
    assert.equal(answer.status, 400);
    assert.equal(answer.headers['content-type'], 'application/problem+json');
    assert.equal(JSON.parse(answer.body.toString()).type, OHTTP_KEY_PROBLEM_TYPE);
  });

  test('tampered or truncated: one 400 with no body', async () => {
    const good = await sealed();
    const flipped = Uint8Array.from(good);
    flipped[flipped.length - 1]! ^= 1;
    for (const bytes of [flipped, good.subarray(0, 20), good.subarray(0, 5)]) {
      const answer = await post(h.session, MEDIA_TYPES.request, [bytes]);
      assert.equal(answer.status, 400);
      assert.equal(answer.body.length, 0);
    }
  });

  test('wrong media type 415, oversized 413, never-ending 408, wrong path 405', async () => {
    assert.equal((await post(h.session, 'application/octet-stream', [await sealed()])).status, 415);
    assert.equal(
      (await post(h.session, MEDIA_TYPES.request, [new Uint8Array(65 * 1024)])).status,
      413,
    );
    assert.equal(
      (await post(h.session, MEDIA_TYPES.request, [await sealed()], { end: false })).status,
      408,
    );
    assert.equal(
      (await post(h.session, MEDIA_TYPES.request, [await sealed()], { path: '/other' })).status,
      405,
    );
  });

  test('fuzz: random and mutated bodies, plain and chunked, only ever get a 400', async () => {
    const good = await sealed();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
            const m = Uint8Array.from(good);
            m[at % m.length]! ^= x;
            return m;
          }),
        ),
        fc.boolean(),
        async (bytes, chunkedType) => {
          const type = chunkedType ? MEDIA_TYPES.chunkedRequest : MEDIA_TYPES.request;
          const answer = await post(h.session, type, [bytes]);
          assert.equal(answer.status, 400);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('while bad requests are refused, a good one beside them succeeds', async () => {
    const bad = Array.from({ length: 8 }, () =>
      post(h.session, MEDIA_TYPES.request, [new Uint8Array(100)], { end: false }),
    );
    const good = await exchange(h, bhttpRequest(url('/beside')));
    assert.equal(good.response?.status, 201);
    for (const answer of await Promise.all(bad)) assert.equal(answer.status, 408);
  });
});

describe('keys change while the gateway runs', T, () => {
  test('a replaced ring: the new key works, the dropped key is unknown', async () => {
    const local = await harness(ring);
    try {
      const [old] = await local.configs();
      const next = (await addKey({ v: 1, keys: [] }, 'x25519', ['aes-128-gcm'], 42)).ring;
      await local.gateway.setKeys(next);
      local.ring = next;
      const [fresh] = await local.configs();
      assert.equal(fresh?.keyId, 42);
      assert.equal((await exchange(local, bhttpRequest(url('/')), fresh)).response?.status, 201);
      const stale = await exchange(local, bhttpRequest(url('/')), old);
      assert.equal(stale.answer.status, 400);
      assert.equal(stale.answer.headers['content-type'], 'application/problem+json');
    } finally {
      await local.close();
    }
  });

  test('a retiring key is accepted until its window ends, then unknown', async () => {
    let nowSeconds = 1000;
    const both = (await addKey(ring, 'x25519', ['aes-128-gcm'], 7)).ring;
    const retiring = retireKey(both, ring.keys[0]!.keyId, 1010);
    const local = await harness(retiring, { now: () => nowSeconds });
    try {
      local.ring = both;
      const old = (await local.configs()).find((c) => c.keyId === ring.keys[0]!.keyId)!;
      assert.equal((await exchange(local, bhttpRequest(url('/')), old)).response?.status, 201);
      nowSeconds = 1010;
      const late = await exchange(local, bhttpRequest(url('/')), old);
      assert.equal(late.answer.status, 400);
      assert.equal(late.answer.headers['content-type'], 'application/problem+json');
      assert.deepEqual(local.gateway.publishedKeyIds(), [ring.keys[1]!.keyId, 7]);
    } finally {
      await local.close();
    }
  });
});

describe('DNS over HTTPS, only through the gateway', T, () => {
  test('a query is forwarded to the resolver and answered with its own ID', async () => {
    for (const truncate of [false, true]) {
      const dns = await dnsResponder(truncate);
      const local = await harness(ring, {
        doh: { upstream: { host: HOST, port: dns.port }, timeoutMs: 2000 },
      });
      try {
        const query = dnsQuery(0, 'example.test');
        const { response } = await exchange(
          local,
          bhttpRequest('https://dns.splitrelay.invalid/dns-query', {
            method: 'POST',
            headers: [{ name: 'content-type', value: 'application/dns-message' }],
            content: query,
          }),
        );
        assert.equal(response?.status, 200);
        assert.equal(
          response?.headers.find((f) => f.name === 'content-type')?.value,
          'application/dns-message',
        );
        const answer = Buffer.from(response!.content);
        assert.equal(answer.readUInt16BE(0), 0, 'the client’s ID comes back');
        assert.deepEqual([...answer.subarray(-4)], [192, 0, 2, 1]);
        assert.equal(dns.queries.length, truncate ? 2 : 1, truncate ? 'UDP, then TCP' : 'UDP');
        // The resolver never saw the client's ID 0 (a fresh random one each time) ... almost never.
        const get = await exchange(
          local,
          bhttpRequest(
            `https://dns.splitrelay.invalid/dns-query?dns=${dnsQuery(0, 'a.test').toString('base64url')}`,
          ),
        );
        assert.equal(get.response?.status, 200);
      } finally {
        await local.close();
        await dns.close();
      }
    }
  });

  test('without a resolver configured, DoH is refused; a bad body is 415', async () => {
    const { response } = await exchange(
      h,
      bhttpRequest('https://dns.splitrelay.invalid/dns-query', { method: 'POST' }),
    );
    assert.equal(response?.status, 405);
    const dns = await dnsResponder();
    const local = await harness(ring, {
      doh: { upstream: { host: HOST, port: dns.port }, timeoutMs: 2000 },
    });
    try {
      const bad = await exchange(
        local,
        bhttpRequest('https://dns.splitrelay.invalid/dns-query', {
          method: 'POST',
          content: dnsQuery(1, 'x.test'),
        }),
      );
      assert.equal(bad.response?.status, 415);
    } finally {
      await local.close();
      await dns.close();
    }
  });
});
