/**
 * The real issuer app, end to end over real TLS on 127.0.6.1: the directory, one token and a
 * batch issued and verified with the client side of @splitrelay/privacy-pass, every refusal
 * with its status and reason (the process serving good requests after each), and a rotation
 * with two overlapping keys and one outside its window.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import {
  ISSUER_DIRECTORY_PATH,
  MEDIA_TYPES,
  TOKEN_TYPE_BLIND_RSA,
  beginTokenRequest,
  decodeToken,
  decodeTokenBatch,
  encodeTokenBatch,
  encodeChallenge,
  fromBase64url,
  importTokenKey,
  issuerDirectorySchema,
  verifyToken,
  type TokenKey,
} from '@splitrelay/privacy-pass';
import {
  CREDENTIALS,
  ISSUER_HOST,
  ISSUER_NAME,
  baseConfig,
  h1Request,
  h2Request,
  makeFixture,
  nowSeconds,
  startIssuerProcess,
  type Fixture,
  type RunningIssuerProcess,
  type TestKey,
} from './helpers.ts';

const challenge = (): Uint8Array =>
  encodeChallenge({
    tokenType: TOKEN_TYPE_BLIND_RSA,
    issuerName: ISSUER_NAME,
    redemptionContext: randomBytes(32),
    originInfo: ['ingress.splitrelay.test'],
  });

const bearer = (credential: string): Record<string, string> => ({
  authorization: `Bearer ${credential}`,
});

interface Directory {
  'issuer-request-uri': string;
  'token-keys': Array<{ 'token-type': number; 'token-key': string; 'not-before'?: number }>;
}

async function fetchDirectory(issuer: RunningIssuerProcess, ca: string): Promise<Directory> {
  const reply = await h2Request(issuer, ca, ISSUER_DIRECTORY_PATH);
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.headers['content-type'], MEDIA_TYPES.directory);
  assert.match(String(reply.headers['cache-control']), /max-age=\d+/);
  const json: unknown = JSON.parse(reply.text);
  issuerDirectorySchema.parse(json);
  return json as Directory;
}

/** One token from `issuer` for `key`, finalized and verified as a client would. */
async function issueOne(
  issuer: RunningIssuerProcess,
  ca: string,
  key: TokenKey,
  credential: string = CREDENTIALS.alice,
): Promise<boolean> {
  const pending = await beginTokenRequest(challenge(), key.spki);
  const reply = await h2Request(issuer, ca, '/token-request', {
    method: 'POST',
    headers: { 'content-type': MEDIA_TYPES.request, ...bearer(credential) },
    body: pending.request,
  });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.headers['content-type'], MEDIA_TYPES.response);
  const token = await pending.finalize(new Uint8Array(reply.body));
  return verifyToken(decodeToken(token), key);
}

describe('issuer app, one key', () => {
  let fixture: Fixture;
  let key: TestKey;
  let issuer: RunningIssuerProcess;

  before(async () => {
    fixture = await makeFixture();
    key = await fixture.newKey('current');
    const config = baseConfig(fixture, [
      { privateKey: key.file, notBefore: nowSeconds() - 60, notAfter: nowSeconds() + 86_400 },
    ]);
    config.limits = { tokensPerSubscriberPerHour: 40, maxRequestBytes: 16 * 261, maxBatch: 16 };
    issuer = await startIssuerProcess(await fixture.writeConfig('one-key', config));
  });

  after(async () => {
    await issuer?.stop();
    await fixture?.cleanup();
  });

  it('is ready on 127.0.6.1 with one key issuing', () => {
    assert.equal(String(issuer.ready.listen).split(':')[0], '127.0.6.1');
    assert.equal(issuer.ready.keys, 1);
  });

  it('serves the RFC 9578 directory over HTTP/2 and HTTP/1.1', async () => {
    const dir = await fetchDirectory(issuer, fixture.caPem);
    assert.equal(dir['issuer-request-uri'], '/token-request');
    assert.equal(dir['token-keys'].length, 1);
    assert.equal(dir['token-keys'][0]!['token-type'], 2);
    assert.deepEqual(
      [...fromBase64url(dir['token-keys'][0]!['token-key'])],
      [...key.tokenKey.spki],
    );
    const h1 = await h1Request(issuer, fixture.caPem, ISSUER_DIRECTORY_PATH);
    assert.equal(h1.status, 200);
    assert.deepEqual(JSON.parse(h1.text), dir);
  });

  it('issues one token end to end, and the token verifies under the directory key', async () => {
    const dir = await fetchDirectory(issuer, fixture.caPem);
    const listed = importTokenKey(fromBase64url(dir['token-keys'][0]!['token-key']));
    assert.equal(await issueOne(issuer, fixture.caPem, listed), true);
  });

  it('issues over HTTP/1.1 too', async () => {
    const pending = await beginTokenRequest(challenge(), key.tokenKey.spki);
    const reply = await h1Request(issuer, fixture.caPem, '/token-request', {
      method: 'POST',
      headers: { 'content-type': MEDIA_TYPES.request, ...bearer(CREDENTIALS.bob) },
      body: pending.request,
    });
    assert.equal(reply.status, 200, reply.text);
    const token = await pending.finalize(new Uint8Array(reply.body));
    assert.equal(verifyToken(decodeToken(token), key.tokenKey), true);
  });

  it('issues a batch of 16 in one round trip, each token valid', async () => {
    const pendings = await Promise.all(
      Array.from({ length: 16 }, () => beginTokenRequest(challenge(), key.tokenKey.spki)),
    );
    const reply = await h2Request(issuer, fixture.caPem, '/token-request', {
      method: 'POST',
      headers: { 'content-type': MEDIA_TYPES.requestBatch, ...bearer(CREDENTIALS.bob) },
      body: encodeTokenBatch(pendings.map((p) => p.request)),
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers['content-type'], MEDIA_TYPES.responseBatch);
    const responses = decodeTokenBatch(new Uint8Array(reply.body), 16);
    assert.equal(responses.length, 16);
    const tokens = await Promise.all(pendings.map((p, i) => p.finalize(responses[i]!)));
    for (const token of tokens) assert.equal(verifyToken(decodeToken(token), key.tokenKey), true);
    assert.equal(new Set(tokens.map((t) => Buffer.from(t).toString('hex'))).size, 16);
  });

  it('refuses a missing or wrong credential with 401 and WWW-Authenticate: Bearer', async () => {
    const pending = await beginTokenRequest(challenge(), key.tokenKey.spki);
    for (const headers of [
      {},
      bearer('not-a-subscriber'),
      { authorization: `Basic ${Buffer.from('alice:x').toString('base64')}` },
      { authorization: 'Bearer ' },
    ]) {
      const reply = await h2Request(issuer, fixture.caPem, '/token-request', {
        method: 'POST',
        headers: { 'content-type': MEDIA_TYPES.request, ...headers },
        body: pending.request,
      });
      assert.equal(reply.status, 401, JSON.stringify(headers));
      assert.match(String(reply.headers['www-authenticate']), /^Bearer\b/);
      assert.match(reply.text, /^unauthorized: /);
    }
  });

  it('refuses the wrong media type (415), a big body (413) and bad requests (400), then serves', async () => {
    const good = (await beginTokenRequest(challenge(), key.tokenKey.spki)).request;
    const post = (headers: Record<string, string>, body: Uint8Array) =>
      h2Request(issuer, fixture.caPem, '/token-request', {
        method: 'POST',
        headers: { ...bearer(CREDENTIALS.alice), ...headers },
        body,
      });
    const cases: Array<[string, Record<string, string>, Uint8Array, number, RegExp]> = [
      ['json', { 'content-type': 'application/json' }, good, 415, /^unsupported-media-type: /],
      ['no type', {}, good, 415, /^unsupported-media-type: /],
      [
        'over the bound',
        { 'content-type': MEDIA_TYPES.request },
        new Uint8Array(16 * 261 + 1),
        413,
        /^too-large: /,
      ],
      ['empty', { 'content-type': MEDIA_TYPES.request }, new Uint8Array(), 400, /^malformed: /],
      [
        'truncated',
        { 'content-type': MEDIA_TYPES.request },
        good.subarray(0, 100),
        400,
        /^malformed: /,
      ],
      [
        'one byte long',
        { 'content-type': MEDIA_TYPES.request },
        Uint8Array.of(...good, 0),
        400,
        /^malformed: /,
      ],
      [
        'random',
        { 'content-type': MEDIA_TYPES.request },
        randomBytes(259),
        400,
        /^(malformed|unsupported-type|unknown-key): /,
      ],
      [
        'other type',
        { 'content-type': MEDIA_TYPES.request },
        Uint8Array.of(0, 1, ...good.subarray(2)),
        400,
        /^unsupported-type: /,
      ],
      [
        'unknown key',
        { 'content-type': MEDIA_TYPES.request },
        Uint8Array.of(0, 2, (key.tokenKey.truncatedId + 1) % 256, ...good.subarray(3)),
        400,
        /^unknown-key: /,
      ],
      [
        'batch framing',
        { 'content-type': MEDIA_TYPES.requestBatch },
        Uint8Array.of(1, 4, ...good),
        400,
        /^malformed: batch/,
      ],
      [
        'batch of 17',
        { 'content-type': MEDIA_TYPES.requestBatch },
        encodeTokenBatch(Array.from({ length: 17 }, () => new Uint8Array([1]))),
        413,
        /^too-many: /,
      ],
      [
        'batch with a bad item',
        { 'content-type': MEDIA_TYPES.requestBatch },
        encodeTokenBatch([good, good.subarray(0, 50)]),
        400,
        /^malformed: token request 1 /,
      ],
    ];
    for (const [what, headers, body, status, reason] of cases) {
      const reply = await post(headers, body);
      assert.equal(reply.status, status, `${what}: ${reply.text}`);
      assert.match(reply.text, reason, what);
      assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
      // Still serving good requests after each one.
      assert.equal(
        await issueOne(issuer, fixture.caPem, key.tokenKey, CREDENTIALS.bob),
        true,
        what,
      );
    }
  });

  it('survives hostile connections: garbage, aborted bodies, reset streams', async () => {
    // Plain TCP garbage, and TLS followed by garbage.
    const raw = net.connect(issuer.port, ISSUER_HOST);
    raw.on('error', () => {});
    raw.resume();
    raw.end('GET / HTTP/1.1\r\n\r\n\x00\xff');
    await once(raw, 'close');
    const secure = tls.connect({
      host: ISSUER_HOST,
      port: issuer.port,
      ca: fixture.caPem,
      servername: ISSUER_NAME,
      ALPNProtocols: ['h2'],
    });
    secure.on('error', () => {});
    secure.resume();
    await once(secure, 'secureConnect');
    secure.end(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\x08garbage'));
    await once(secure, 'close');
    // HTTP/2: a stream reset halfway through its body.
    const session = http2.connect(issuer.origin, { ca: fixture.caPem, servername: ISSUER_NAME });
    session.on('error', () => {});
    const stream = session.request({
      ':method': 'POST',
      ':path': '/token-request',
      'content-type': MEDIA_TYPES.request,
      ...bearer(CREDENTIALS.bob),
    });
    stream.on('error', () => {});
    stream.write(new Uint8Array(100));
    await new Promise((r) => setTimeout(r, 50));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    session.close();
    // HTTP/1.1: a declared body that never comes, then the connection drops.
    const h1 = tls.connect({
      host: ISSUER_HOST,
      port: issuer.port,
      ca: fixture.caPem,
      servername: ISSUER_NAME,
    });
    h1.on('error', () => {});
    await once(h1, 'secureConnect');
    h1.write(
      `POST /token-request HTTP/1.1\r\nHost: ${ISSUER_NAME}\r\nAuthorization: Bearer ${CREDENTIALS.bob}\r\n` +
        `Content-Type: ${MEDIA_TYPES.request}\r\nContent-Length: 259\r\n\r\nabc`,
    );
    await new Promise((r) => setTimeout(r, 50));
    h1.destroy();
    assert.equal(issuer.child.exitCode, null);
    assert.equal(await issueOne(issuer, fixture.caPem, key.tokenKey, CREDENTIALS.bob), true);
  });

  it('refuses other paths and methods with 404 and 405', async () => {
    assert.equal((await h2Request(issuer, fixture.caPem, '/nope')).status, 404);
    const get = await h2Request(issuer, fixture.caPem, '/token-request');
    assert.equal(get.status, 405);
    assert.equal(get.headers['allow'], 'POST');
    const post = await h2Request(issuer, fixture.caPem, ISSUER_DIRECTORY_PATH, { method: 'POST' });
    assert.equal(post.status, 405);
  });

  it('refuses past the per-subscriber hourly limit with 429 and Retry-After, counting tokens', async () => {
    // alice has used some of her 40 tokens above; a batch of 16 twice more must hit the limit.
    let refused: Awaited<ReturnType<typeof h2Request>> | undefined;
    for (let i = 0; i < 4 && refused === undefined; i++) {
      const pendings = await Promise.all(
        Array.from({ length: 16 }, () => beginTokenRequest(challenge(), key.tokenKey.spki)),
      );
      const reply = await h2Request(issuer, fixture.caPem, '/token-request', {
        method: 'POST',
        headers: { 'content-type': MEDIA_TYPES.requestBatch, ...bearer(CREDENTIALS.alice) },
        body: encodeTokenBatch(pendings.map((p) => p.request)),
      });
      if (reply.status === 429) refused = reply;
      else assert.equal(reply.status, 200, reply.text);
    }
    assert.ok(refused, 'never refused');
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600,
      String(retryAfter),
    );
    assert.match(refused.text, /^rate-limited: /);
    // Single tokens keep working until the hour is spent, then they are refused too.
    let single = 0;
    for (;;) {
      const pending = await beginTokenRequest(challenge(), key.tokenKey.spki);
      const reply = await h2Request(issuer, fixture.caPem, '/token-request', {
        method: 'POST',
        headers: { 'content-type': MEDIA_TYPES.request, ...bearer(CREDENTIALS.alice) },
        body: pending.request,
      });
      if (reply.status === 429) break;
      assert.equal(reply.status, 200);
      assert.ok(++single <= 16, 'a batch refused with room for 16 more');
    }
    // Before the body is even read, the next request is refused.
    const early = await h2Request(issuer, fixture.caPem, '/token-request', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(CREDENTIALS.alice) },
      body: new Uint8Array(10),
    });
    assert.equal(early.status, 429);
    // Another subscriber is not affected.
    assert.equal(await issueOne(issuer, fixture.caPem, key.tokenKey, CREDENTIALS.bob), true);
  });

  it('logs aggregates only: no request bytes, no credential, the subscriber only when limited', async () => {
    await issuer.waitForEvent('stats', 5000);
    const text = issuer.lines.join('\n');
    assert.doesNotMatch(text, new RegExp(CREDENTIALS.alice));
    assert.doesNotMatch(text, new RegExp(CREDENTIALS.bob));
    const records = issuer.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    for (const record of records) {
      if (record.subscriber !== undefined) {
        assert.equal(record.event, 'subscriber rate limited');
        assert.equal(record.subscriber, 'alice');
      }
    }
    const limited = issuer.lines.filter((l) => l.includes('subscriber rate limited'));
    assert.equal(limited.length, 1, 'once per subscriber per window');
    const issued = records
      .filter((r) => r.event === 'stats')
      .reduce((sum, r) => sum + Number(r.issued ?? 0), 0);
    assert.ok(issued > 0);
  });
});

describe('issuer app, rotation with overlapping keys', () => {
  let fixture: Fixture;
  let older: TestKey;
  let newer: TestKey;
  let expired: TestKey;
  let future: TestKey;
  let issuer: RunningIssuerProcess;

  before(async () => {
    fixture = await makeFixture();
    older = await fixture.newKey('older');
    newer = await fixture.newKey('newer', [older]);
    expired = await fixture.newKey('expired', [older, newer]);
    future = await fixture.newKey('future', [older, newer, expired]);
    const now = nowSeconds();
    const config = baseConfig(fixture, [
      { privateKey: older.file, notBefore: now - 86_400, notAfter: now + 3600 },
      { privateKey: newer.file, notBefore: now - 60, notAfter: now + 86_400 },
      { privateKey: expired.file, notBefore: now - 2 * 86_400, notAfter: now - 86_400 },
      { privateKey: future.file, notBefore: now + 3 * 3600, notAfter: now + 2 * 86_400 },
    ]);
    issuer = await startIssuerProcess(await fixture.writeConfig('rotation', config));
  });

  after(async () => {
    await issuer?.stop();
    await fixture?.cleanup();
  });

  it('lists both current keys, newest first, and neither key outside its window', async () => {
    const dir = await fetchDirectory(issuer, fixture.caPem);
    const listed = dir['token-keys'].map((k) =>
      Buffer.from(fromBase64url(k['token-key'])).toString('hex'),
    );
    assert.deepEqual(listed, [
      Buffer.from(newer.tokenKey.spki).toString('hex'),
      Buffer.from(older.tokenKey.spki).toString('hex'),
    ]);
    assert.ok(dir['token-keys'][0]!['not-before']! > dir['token-keys'][1]!['not-before']!);
    assert.equal(issuer.ready.keys, 2);
    // Cached no longer than until the older key ends (an hour from now).
    const reply = await h2Request(issuer, fixture.caPem, ISSUER_DIRECTORY_PATH);
    const maxAge = Number(/max-age=(\d+)/.exec(String(reply.headers['cache-control']))?.[1]);
    assert.ok(maxAge > 0 && maxAge <= 3600, String(maxAge));
  });

  it('issues a token for each current key, each verifying under its own key', async () => {
    assert.equal(await issueOne(issuer, fixture.caPem, newer.tokenKey), true);
    assert.equal(await issueOne(issuer, fixture.caPem, older.tokenKey), true);
  });

  it('does not use a key outside its window (expired or not yet valid)', async () => {
    for (const k of [expired, future]) {
      const pending = await beginTokenRequest(challenge(), k.tokenKey.spki);
      const reply = await h2Request(issuer, fixture.caPem, '/token-request', {
        method: 'POST',
        headers: { 'content-type': MEDIA_TYPES.request, ...bearer(CREDENTIALS.alice) },
        body: pending.request,
      });
      assert.equal(reply.status, 400);
      assert.match(reply.text, /^unknown-key: /);
    }
  });

  it('a batch may mix the current keys', async () => {
    const pendings = await Promise.all([
      beginTokenRequest(challenge(), newer.tokenKey.spki),
      beginTokenRequest(challenge(), older.tokenKey.spki),
    ]);
    const reply = await h2Request(issuer, fixture.caPem, '/token-request', {
      method: 'POST',
      headers: { 'content-type': MEDIA_TYPES.requestBatch, ...bearer(CREDENTIALS.bob) },
      body: encodeTokenBatch(pendings.map((p) => p.request)),
    });
    assert.equal(reply.status, 200, reply.text);
    const [a, b] = decodeTokenBatch(new Uint8Array(reply.body), 2);
    assert.equal(verifyToken(decodeToken(await pendings[0]!.finalize(a!)), newer.tokenKey), true);
    assert.equal(verifyToken(decodeToken(await pendings[1]!.finalize(b!)), older.tokenKey), true);
  });
});
