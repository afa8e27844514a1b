/**
 * A flood of invalid Privacy Pass tokens must cost the ingress little and starve no one:
 * 10,000 CONNECTs with bad tokens (malformed, for an unknown key, and well-formed forgeries
 * that reach the RSA check) while a valid client downloads through the same ingress. The
 * valid download completes intact, the ingress stays up, and the figures are printed. With
 * the default per-address rate, the same flood from one address is cut to 429s while another
 * address's client is unaffected.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startNats, type NatsServer } from '@splitrelay/nats-kit';
import {
  TOKEN_TYPE_BLIND_RSA,
  challengeDigest,
  encodeToken,
  formatTokenHeader,
  tokenKeyId,
} from '@splitrelay/privacy-pass';
import { socksRequest, type SocksProxy } from '@splitrelay/test-kit/socks-client';
import { worldChallenge } from '@splitrelay/test-kit/tokens';
import { ADDR, INGRESS_NAME, startWorld, type World } from '@splitrelay/test-kit/world';

const FLOOD_SOURCE = '127.0.1.2';
const FLOOD_SIZE = 10_000;
const DOWNLOAD_BYTES = 48 * 1024 * 1024;

let nats: NatsServer;
let world: World;
let source: net.Server;
let sourcePort: number;

/** Sends DOWNLOAD_BYTES of a fixed pattern to whoever connects, then ends. */
const PATTERN = randomBytes(1024 * 1024);
const EXPECTED = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < DOWNLOAD_BYTES / PATTERN.length; i++) h.update(PATTERN);
  return h.digest('hex');
})();

before(async () => {
  nats = await startNats({ host: '127.0.7.1' });
  world = await startWorld({ natsServers: [nats.url], privacyPass: true, logLevel: 'info' });
  source = net.createServer((socket) => {
    socket.on('error', () => {});
    let sent = 0;
    const pump = (): void => {
      while (sent < DOWNLOAD_BYTES) {
        sent += PATTERN.length;
        if (!socket.write(PATTERN)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    pump();
  });
  await new Promise<void>((r) => source.listen(0, ADDR.target, r));
  sourcePort = (source.address() as net.AddressInfo).port;
});
after(async () => {
  source?.close();
  await world?.stop();
  await world?.cleanup();
  await nats?.stop();
});

/** Downloads through the client app's SOCKS proxy (one token-paid session); MB/s and hash. */
async function download(socks: SocksProxy): Promise<{ mbps: number; sha256: string }> {
  const started = performance.now();
  const { reply, socket } = await socksRequest(socks, 'connect', {
    host: ADDR.target,
    port: sourcePort,
  });
  assert.equal(reply, 0);
  const hash = createHash('sha256');
  let bytes = 0;
  socket.on('data', (d: Buffer) => {
    bytes += d.length;
    hash.update(d);
  });
  socket.resume();
  await new Promise<void>((resolve, reject) => {
    socket.once('end', resolve);
    socket.once('error', reject);
  });
  socket.destroy();
  assert.equal(bytes, DOWNLOAD_BYTES);
  return { mbps: bytes / 1e6 / ((performance.now() - started) / 1000), sha256: hash.digest('hex') };
}

/** Three kinds of bad token, the last reaching the signature check (the costliest refusal). */
function badTokens(world: World): string[] {
  const keyId = tokenKeyId(Buffer.from(world.deployment.issuer!.tokenKey, 'base64url'));
  const digest = challengeDigest(worldChallenge());
  const kinds = [
    () => `PrivateToken token="${randomBytes(60).toString('base64url')}"`,
    () =>
      formatTokenHeader(
        encodeToken({
          tokenType: TOKEN_TYPE_BLIND_RSA,
          nonce: randomBytes(32),
          challengeDigest: digest,
          tokenKeyId: randomBytes(32),
          authenticator: randomBytes(256),
        }),
      ),
    () =>
      formatTokenHeader(
        encodeToken({
          tokenType: TOKEN_TYPE_BLIND_RSA,
          nonce: randomBytes(32),
          challengeDigest: digest,
          tokenKeyId: keyId,
          authenticator: randomBytes(256),
        }),
      ),
  ];
  return Array.from({ length: FLOOD_SIZE }, (_, i) => kinds[i % kinds.length]!());
}

/** Sends every header as one CONNECT over h2 (a few sessions, bounded in flight). */
async function flood(
  world: World,
  headers: readonly string[],
): Promise<{ statuses: Map<number, number>; seconds: number }> {
  const statuses = new Map<number, number>();
  const sessions = Array.from({ length: 4 }, () =>
    http2.connect(`https://${ADDR.ingress}:${world.ingressPort}`, {
      ca: readFileSync(world.deployment.caCert, 'utf8'),
      servername: INGRESS_NAME,
      // Passed on to tls.connect, which @types/node's h2 options do not list.
      ...({ localAddress: FLOOD_SOURCE } as object),
    }),
  );
  for (const s of sessions) s.on('error', () => {});
  const started = performance.now();
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    const session = sessions[w % sessions.length]!;
    while (next < headers.length) {
      const authorization = headers[next++]!;
      const status = await new Promise<number>((resolve) => {
        const req = session.request({
          ':method': 'CONNECT',
          ':authority': 'egress-1:443',
          'proxy-authorization': authorization,
        });
        // The refusal ends the stream from the ingress's side; resetting it from here instead
        // would look like a rapid-reset attack (and Node's h2 would rightly end the session).
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.resume();
        req.on('close', () => resolve(status));
        req.end();
      });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: 64 }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  for (const s of sessions) s.close();
  return { statuses, seconds };
}

test(
  '10,000 invalid tokens while a valid client downloads: the download completes, the ingress stays up',
  { timeout: 180_000 },
  async () => {
    const headers = badTokens(world);
    // The first download also pays for the session (407, tokens, both handshakes): not counted.
    assert.equal((await download(world.socks)).sha256, EXPECTED);
    const before: number[] = [];
    for (let i = 0; i < 3; i++) before.push((await download(world.socks)).mbps);
    const baseline = { mbps: before.reduce((a, b) => a + b, 0) / before.length };

    // Downloads back to back for as long as the flood lasts (flows on the client's session).
    let flooding = true;
    const during = (async () => {
      const rates: number[] = [];
      while (flooding) {
        const d = await download(world.socks);
        assert.equal(d.sha256, EXPECTED);
        rates.push(d.mbps);
      }
      return rates;
    })();
    const flooded = await flood(world, headers).finally(() => (flooding = false));
    const rates = await during;
    const duringFlood = { mbps: rates.reduce((a, b) => a + b, 0) / rates.length };

    assert.equal(flooded.statuses.get(407), FLOOD_SIZE, JSON.stringify([...flooded.statuses]));
    assert.equal(world.ingress.process.exitCode, null);
    const health = (await (await fetch(world.ingressHealthUrl)).json()) as { ok: boolean };
    assert.equal(health.ok, true);
    // And a new valid session still opens after it.
    assert.equal((await download(world.socks)).sha256, EXPECTED);

    console.log(
      `flood: ${FLOOD_SIZE} invalid tokens in ${flooded.seconds.toFixed(2)} s ` +
        `(${Math.round(FLOOD_SIZE / flooded.seconds)}/s, all 407); valid download ` +
        `${baseline.mbps.toFixed(0)} MB/s before (mean of 3), ${duringFlood.mbps.toFixed(0)} MB/s during ` +
        `(mean of ${rates.length} downloads) ` +
        `(${(duringFlood.mbps / baseline.mbps).toFixed(2)}x)`,
    );
  },
);

test(
  'with the default per-address rate the same flood gets 429 and another address is unaffected',
  { timeout: 120_000 },
  async () => {
    const limited = await startWorld({
      privacyPass: true,
      logLevel: 'info',
      ingressAdmission: { rateLimit: { sessionsPerSecond: 20, burst: 100 } },
    });
    try {
      const flooded = await flood(limited, badTokens(limited).slice(0, 1000));
      // At most the burst plus what the rate refilled while the flood lasted reached the token
      // checks; every other request was refused for its rate.
      const admitted = 100 + Math.ceil(flooded.seconds * 20) + 1;
      const statuses = JSON.stringify([...flooded.statuses]);
      assert.ok((flooded.statuses.get(407) ?? 0) <= admitted, statuses);
      assert.equal(
        (flooded.statuses.get(429) ?? 0) + (flooded.statuses.get(407) ?? 0),
        1000,
        statuses,
      );
      assert.ok((flooded.statuses.get(429) ?? 0) >= 1000 - admitted, statuses);
      // The valid client (another address) opens its session at once.
      assert.equal((await download(limited.socks)).sha256, EXPECTED);
    } finally {
      await limited.stop();
      await limited.cleanup();
    }
  },
);
