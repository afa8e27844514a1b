/**
 * Rotating the ingress's trunk certificate (TrunkPool.setIdentity) with real TLS: new tunnels
 * use the new key at once, the tunnel already open keeps flowing on the old connection, and
 * that connection closes when its last tunnel ends, so the egress can then retire the old key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { spkiPin } from '@splitrelay/directory';
import type { Duplex } from 'node:stream';
import { TrunkPool, createTrunkServer, type TrunkServer } from '../src/index.ts';
import {
  EGRESS_CERT,
  EGRESS_KEY,
  INGRESS_CERT,
  INGRESS_KEY,
  OTHER_CERT,
  OTHER_KEY,
} from './fixtures.ts';

const HOST = '127.0.0.1';
const EGRESS_ID = 'egress-r';

const admittedAs: string[] = [];
let trunk: TrunkServer;
let port = 0;
let pool: TrunkPool;

before(async () => {
  trunk = createTrunkServer({
    cert: EGRESS_CERT,
    key: EGRESS_KEY,
    egressId: EGRESS_ID,
    // The overlap: both the old and the next certificate of the same ingress are known.
    knownIngresses: [
      { name: 'ingress-old-key', certPem: INGRESS_CERT },
      { name: 'ingress-new-key', certPem: OTHER_CERT },
    ],
    handshakeTimeoutMs: 5000,
    proxyName: 'egress-test',
    onSession(stream, ingress) {
      admittedAs.push(ingress);
      stream.pipe(stream);
    },
  });
  trunk.server.listen(0, HOST);
  await once(trunk.server, 'listening');
  port = (trunk.server.address() as AddressInfo).port;
  pool = new TrunkPool({ cert: INGRESS_CERT, key: INGRESS_KEY, connectTimeoutMs: 5000 });
});
after(async () => {
  pool?.close();
  trunk?.server.close();
});

const target = () => ({ id: EGRESS_ID, host: HOST, port, pins: [spkiPin(EGRESS_CERT)] });

async function echo(stream: Duplex, text: string): Promise<string> {
  stream.write(text);
  const [chunk] = (await once(stream, 'data')) as [Buffer];
  return chunk.toString();
}

test('new tunnels use the new key; the open one keeps flowing and its connection then closes', async () => {
  const before = await pool.open(target());
  assert.equal(await echo(before, 'one'), 'one');
  assert.deepEqual(pool.connectionCounts(), { [EGRESS_ID]: 1 });

  pool.setIdentity({ cert: OTHER_CERT, key: OTHER_KEY });
  // The egress stops admitting the old certificate for new handshakes.
  trunk.update({ knownIngresses: [{ name: 'ingress-new-key', certPem: OTHER_CERT }] });

  const after = await pool.open(target());
  assert.equal(await echo(after, 'two'), 'two');
  assert.deepEqual(admittedAs, ['ingress-old-key', 'ingress-new-key']);
  // The tunnel opened before the rotation is untouched.
  assert.equal(await echo(before, 'three'), 'three');
  assert.deepEqual(pool.connectionCounts(), { [EGRESS_ID]: 2 });

  before.destroy();
  const deadline = Date.now() + 5000;
  while (pool.connectionCounts()[EGRESS_ID] !== 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(pool.connectionCounts(), { [EGRESS_ID]: 1 }, 'the retired connection closed');
  assert.equal(await echo(after, 'four'), 'four');
  after.destroy();
});
