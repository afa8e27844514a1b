/**
 * Where the Oblivious HTTP gateway's target connections leave from, with address pools, on
 * the real apps. A gateway request belongs to no inner session and carries no geo hint, so
 * every new connection to a target draws afresh from the default region's pool; a pooled
 * connection keeps its draw. The control is a session of the same client whose hint names
 * another region: it leaves from that region's pool, so the gateway's staying in the default
 * one is its own choice, not the only pool there is. The egress states the same in its
 * manifest and on its health endpoint.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { keyIdOf, readSignedEntries, verifyEntry } from '@splitrelay/directory';
import { fetchManifest } from '@splitrelay/operator-manifest';
import type { SplitRelayClient } from '@splitrelay/sdk';
import { ADDR, TARGET_NAME, startWorld, type World } from '@splitrelay/test-kit/world';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';

const T = { timeout: 90_000 };
/** 30 usable addresses each (network and broadcast are never drawn). */
const NL = '127.0.10.0/27';
const DE = '127.0.12.0/27';
const inPool = (pool: string, address: string): boolean => {
  const [base] = pool.split('/');
  const prefix = base!.split('.').slice(0, 3).join('.');
  const last = Number(address.replace(/^::ffff:/, '').split('.')[3]);
  return address.replace(/^::ffff:/, '').startsWith(`${prefix}.`) && last >= 1 && last <= 30;
};
/** Connections the gateway opens, one per request (the target closes each). */
const REQUESTS = 24;

/**
 * An HTTPS target that records the peer of every request. On `/close` it answers with
 * `connection: close`, so the gateway's next request needs a new connection.
 */
async function recordingTarget(world: World) {
  const peers: string[] = [];
  const server = https.createServer(
    {
      cert: readFileSync(world.deployment.target.cert),
      key: readFileSync(world.deployment.target.key),
    },
    (req, res) => {
      const peer = req.socket.remoteAddress ?? '';
      peers.push(peer);
      req.resume();
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': Buffer.byteLength(peer),
        ...(req.url === '/close' ? { connection: 'close' } : {}),
      });
      res.end(peer);
    },
  );
  server.listen(0, ADDR.target);
  await once(server, 'listening');
  return {
    peers,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the gateway draws its sources per connection, from the default region', T, () => {
  let world: World;
  let target: Awaited<ReturnType<typeof recordingTarget>>;
  let client: SplitRelayClient;
  let ca: string;

  before(async () => {
    world = await startWorld({
      ohttp: true,
      manifests: true,
      logLevel: 'info',
      egressExtra: {
        localAddress: undefined,
        addresses: {
          defaultRegion: 'nl',
          entropyFloorBits: 4,
          countryDefaults: { DE: 'de' },
          regions: [
            { id: 'nl', country: 'NL', ipv4: [NL] },
            { id: 'de', country: 'DE', ipv4: [DE] },
          ],
        },
      },
    });
    target = await recordingTarget(world);
    ca = readFileSync(world.deployment.caCert, 'utf8');
    // The client shares its country: its sessions' hint names the de region.
    client = sdkClient(world, {
      location: { choice: { mode: 'country-only' }, where: { country: 'DE' } },
    });
  });
  after(async () => {
    client?.close();
    await target?.close();
    await world?.stop();
    await world?.cleanup();
  });

  test('each new connection: a fresh draw from the default pool, whatever the hint', async () => {
    const url = `https://${TARGET_NAME}:${target.port}/close`;
    const before = target.peers.length;
    for (let i = 0; i < REQUESTS; i++) {
      const res = await client.ohttpFetch(url);
      assert.equal(res.status, 200);
      await res.text();
    }
    const seen = target.peers.slice(before);
    assert.equal(seen.length, REQUESTS);
    for (const peer of seen) assert.ok(inPool(NL, peer), `${peer} is not in ${NL}`);
    // 24 uniform draws from 30 addresses give about 16 distinct ones; fewer than 8 happens
    // with probability below 1e-6, and a single sticky source would give 1.
    assert.ok(new Set(seen).size >= 8, `only ${new Set(seen).size} distinct sources`);
  });

  test('a pooled connection keeps its draw', async () => {
    const url = `https://${TARGET_NAME}:${target.port}/keep`;
    const before = target.peers.length;
    for (let i = 0; i < 5; i++) await (await client.ohttpFetch(url)).text();
    const seen = target.peers.slice(before);
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 1, `one connection, one source: ${seen.join(', ')}`);
    assert.ok(inPool(NL, seen[0]!));
  });

  test('control: a session of the same client leaves from its hinted region', async () => {
    const tunnel = await client.connect({ host: TARGET_NAME, port: target.port });
    const secured = tls.connect({ socket: tunnel, servername: TARGET_NAME, ca });
    await once(secured, 'secureConnect');
    secured.end(`GET /close HTTP/1.1\r\nHost: ${TARGET_NAME}\r\nConnection: close\r\n\r\n`);
    const chunks: Buffer[] = [];
    for await (const chunk of secured) chunks.push(chunk as Buffer);
    const peer = Buffer.concat(chunks).toString('latin1').split('\r\n\r\n')[1] ?? '';
    assert.ok(inPool(DE, peer), `the session left from ${peer}, not from ${DE}`);
  });

  test('the manifest and the health endpoint state where the gateway draws from', async () => {
    const pem = readFileSync(world.deployment.operatorPublicKey, 'utf8');
    const keys = { [keyIdOf(pem)]: pem };
    const entry = verifyEntry(
      readSignedEntries(world.deployment.directoryFile)[0],
      keys,
      Math.floor(Date.now() / 1000),
    );
    const { manifest } = await fetchManifest(entry.manifest!, keys);
    assert.equal(manifest.addresses?.drawnPer, 'session');
    assert.deepEqual(manifest.addresses?.gateway, { drawnPer: 'connection', region: 'nl' });
    const health = (await (await fetch(`${world.egressEndpoints['egress-1']}/health`)).json()) as {
      addresses: unknown;
    };
    assert.deepEqual(health.addresses, manifest.addresses);
  });
});
