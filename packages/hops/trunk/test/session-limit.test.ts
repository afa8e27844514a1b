/**
 * The per-ingress session cap at the egress end of the trunk, with real TLS on loopback: a
 * trunk pool (ingress side) against a trunk server (egress side).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import tls from 'node:tls';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { spkiPin } from '@splitrelay/directory';
import type { Duplex } from 'node:stream';
import { RelayError, parseProxyStatus } from '@splitrelay/errors';
import { TrunkPool, createTrunkServer, type SessionGate, type TrunkServer } from '../src/index.ts';
import {
  EGRESS_CERT,
  EGRESS_KEY,
  INGRESS_CERT,
  INGRESS_KEY,
  OTHER_CERT,
  OTHER_KEY,
} from './fixtures.ts';

const T = { timeout: 20_000 };
const HOST = '127.0.0.1';
const EGRESS_ID = 'egress-t';
const LIMIT = 2;

/** What @splitrelay/abuse-limits' ConcurrencyGate does, kept here so the trunk needs no dependency on it. */
function countingGate(limit: number): SessionGate & { active(key: string): number } {
  const held = new Map<string, number>();
  return {
    active: (key) => held.get(key) ?? 0,
    tryAcquire(key) {
      if ((held.get(key) ?? 0) >= limit) return undefined;
      held.set(key, (held.get(key) ?? 0) + 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        held.set(key, (held.get(key) ?? 1) - 1);
      };
    },
  };
}

const gate = countingGate(LIMIT);
const refusals: { code: string; ingress: string | undefined }[] = [];
const sessions: string[] = [];
let trunk: TrunkServer;
let port = 0;
const pools: TrunkPool[] = [];

before(async () => {
  trunk = createTrunkServer({
    cert: EGRESS_CERT,
    key: EGRESS_KEY,
    egressId: EGRESS_ID,
    knownIngresses: [
      { name: 'ingress-a', certPem: INGRESS_CERT },
      { name: 'ingress-b', certPem: OTHER_CERT },
    ],
    handshakeTimeoutMs: 5000,
    proxyName: 'egress-test',
    sessionGate: gate,
    limitRetryAfterSeconds: 7,
    // An echo: what a session sends comes back, so a test can hash both ways.
    onSession(stream, ingress) {
      sessions.push(ingress);
      stream.pipe(stream);
    },
    onRefusal(err, ingress) {
      refusals.push({ code: err.code, ingress });
    },
  });
  trunk.server.listen(0, HOST);
  await once(trunk.server, 'listening');
  port = (trunk.server.address() as AddressInfo).port;
});

after(async () => {
  for (const p of pools) p.close();
  await new Promise<void>((resolve) => trunk.server.close(() => resolve()));
  // Destroyed sockets finish closing on a later tick: wait a bounded moment for them.
  const left = () =>
    process.getActiveResourcesInfo().filter((r) => /TCPSocketWrap|TLSWrap|Http2/i.test(r));
  await until(
    () => left().length === 0,
    () => `connections outlived the suite: ${left().join()}`,
  );
});

function pool(cert: string, key: string): TrunkPool {
  const p = new TrunkPool({ cert, key, connectTimeoutMs: 5000, localAddress: HOST });
  pools.push(p);
  return p;
}

const target = () => ({ id: EGRESS_ID, host: HOST, port, pins: [spkiPin(EGRESS_CERT)] });

/** Sends `bytes` through the echo session and checks that the same bytes come back. */
async function roundTrip(stream: Duplex, bytes = 256 * 1024): Promise<void> {
  const sent = randomBytes(bytes);
  const got: Buffer[] = [];
  let n = 0;
  const done = new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      got.push(c);
      n += c.length;
      if (n >= bytes) {
        stream.off('data', onData);
        resolve();
      }
    };
    stream.on('data', onData);
    stream.once('close', () => reject(new Error('session closed mid-echo')));
  });
  stream.write(sent);
  await done;
  const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  assert.equal(digest(Buffer.concat(got)), digest(sent));
}

async function refusalOf(p: TrunkPool): Promise<RelayError> {
  try {
    const stream = await p.open(target());
    stream.destroy();
  } catch (err) {
    assert.ok(err instanceof RelayError, String(err));
    return err;
  }
  assert.fail('the session was admitted');
}

/** Bounded wait for the egress to see a closed session (its 'close' crosses the network). */
async function until(cond: () => boolean, what: string | (() => string)): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(cond(), typeof what === 'string' ? what : what());
}

test(
  'an ingress at its cap is refused with 503, a reason and Retry-After; others carry on',
  T,
  async () => {
    const a = pool(INGRESS_CERT, INGRESS_KEY);
    const first = await a.open(target());
    const second = await a.open(target());
    assert.equal(gate.active('ingress-a'), LIMIT);

    const err = await refusalOf(a);
    assert.equal(err.code, 'limit-reached');
    assert.equal(err.status, 503);
    assert.equal(err.proxyError, 'connection_limit_reached');
    assert.equal(err.retryAfterSeconds, 7, 'the egress Retry-After reaches the ingress');
    assert.match(err.details, /session limit/);
    assert.deepEqual(refusals.at(-1), { code: 'limit-reached', ingress: 'ingress-a' });

    // The admitted sessions are untouched by the refusal.
    await roundTrip(first);
    await roundTrip(second);

    // The cap counts per ingress: another admitted ingress is not affected.
    const b = pool(OTHER_CERT, OTHER_KEY);
    const other = await b.open(target());
    await roundTrip(other);
    assert.equal(gate.active('ingress-b'), 1);

    // One session ends: a new one from the same ingress is admitted.
    first.destroy();
    await until(() => gate.active('ingress-a') === LIMIT - 1, 'the egress released the slot');
    const third = await a.open(target());
    await roundTrip(third);
    await roundTrip(second);
    assert.equal(await refusalOf(a).then((e) => e.code), 'limit-reached');

    for (const s of [second, third, other]) s.destroy();
    await until(
      () => gate.active('ingress-a') === 0 && gate.active('ingress-b') === 0,
      'every slot is released when the sessions end',
    );
    assert.deepEqual(new Set(sessions), new Set(['ingress-a', 'ingress-b']));
  },
);

test('the refusal on the wire: status, Proxy-Status and Retry-After', T, async () => {
  const a = pool(INGRESS_CERT, INGRESS_KEY);
  const held = [await a.open(target()), await a.open(target())];
  const socket = tls.connect({
    host: HOST,
    port,
    cert: INGRESS_CERT,
    key: INGRESS_KEY,
    ALPNProtocols: ['h2'],
    rejectUnauthorized: false,
  });
  await once(socket, 'secureConnect');
  const session = http2.connect(`https://${EGRESS_ID}`, { createConnection: () => socket });
  session.on('error', () => {});
  const req = session.request({ ':method': 'CONNECT', ':authority': `${EGRESS_ID}:443` });
  req.on('error', () => {});
  const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
  assert.equal(headers[':status'], 503);
  assert.equal(headers['retry-after'], '7');
  const [member] = parseProxyStatus(String(headers['proxy-status']));
  assert.equal(member?.proxy, 'egress-test');
  assert.equal(member?.error, 'connection_limit_reached');
  assert.ok(member?.details, 'a reason in details');
  // Nothing about the ingress or the count is put on the wire.
  assert.doesNotMatch(String(headers['proxy-status']), /ingress-a|\b2\b/);
  await once(req, 'close');
  session.destroy();
  for (const s of held) s.destroy();
  await until(() => gate.active('ingress-a') === 0, 'slots released');
});

test('slots are released whichever side ends the session', T, async () => {
  const a = pool(INGRESS_CERT, INGRESS_KEY);
  const [one, two] = [await a.open(target()), await a.open(target())];
  // A graceful end from the ingress side: the echo ends its side in turn.
  one.end();
  one.resume();
  await until(() => gate.active('ingress-a') === 1, 'a half-close that completes releases');
  // The whole trunk connection going away releases every slot it held.
  a.close();
  await until(() => gate.active('ingress-a') === 0, 'a dropped trunk releases its slots');
  assert.ok(two.destroyed);
  const again = pool(INGRESS_CERT, INGRESS_KEY);
  const s = await again.open(target());
  await roundTrip(s);
  s.destroy();
  await until(() => gate.active('ingress-a') === 0, 'released');
});

test('other refusals keep their status and reason', T, async () => {
  const a = pool(INGRESS_CERT, INGRESS_KEY);
  await assert.rejects(
    a.open({ ...target(), id: 'another-egress' }),
    (err: unknown) =>
      err instanceof RelayError && err.status === 403 && /another egress/.test(err.details),
  );
  assert.equal(refusals.at(-1)?.code, 'unknown-egress');
  assert.equal(gate.active('ingress-a'), 0, 'a refused request holds no slot');
});

test('without a gate the trunk admits sessions as before', T, async () => {
  const open = createTrunkServer({
    cert: EGRESS_CERT,
    key: EGRESS_KEY,
    egressId: EGRESS_ID,
    knownIngresses: [{ name: 'ingress-a', certPem: INGRESS_CERT }],
    handshakeTimeoutMs: 5000,
    proxyName: 'egress-test',
    onSession: (stream) => stream.pipe(stream),
  });
  open.server.listen(0, HOST);
  await once(open.server, 'listening');
  const a = pool(INGRESS_CERT, INGRESS_KEY);
  const to = { ...target(), port: (open.server.address() as AddressInfo).port };
  const streams = await Promise.all(Array.from({ length: LIMIT * 3 }, () => a.open(to)));
  await Promise.all(streams.map((s) => roundTrip(s, 16 * 1024)));
  a.close();
  await new Promise<void>((resolve) => open.server.close(() => resolve()));
});
