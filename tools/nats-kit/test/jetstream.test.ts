/**
 * JetStream inside an operator's account: INGRESS keeps a KV bucket (spent tokens, later)
 * that EGRESS cannot see, open or write, and that survives a restart of the server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectAs, startNats, watchPermissionErrors, type NatsServer } from '../src/index.ts';
import { assertNoLeakedHandles, eventually } from './helpers.ts';

const BUCKET = 'spent-tokens';

describe('JetStream per account', () => {
  let server: NatsServer;
  let ingress: NatsConnection;
  let egress: NatsConnection;
  let kv: KV;

  before(async () => {
    server = await startNats();
    [ingress, egress] = await Promise.all([
      connectAs('ingress', server.url),
      connectAs('egress', server.url),
    ]);
    kv = await new Kvm(ingress).create(BUCKET, { history: 1, ttl: 3_600_000 });
  });

  after(async () => {
    await Promise.all([ingress?.close(), egress?.close()]);
    await server?.stop();
    await assertNoLeakedHandles();
  });

  it('INGRESS puts and gets', async () => {
    await kv.put('token-a', 'spent');
    const entry = await kv.get('token-a');
    assert.equal(entry?.string(), 'spent');
    assert.equal(await kv.get('token-unknown'), null);
  });

  it('create() refuses a key that exists (a double spend is detected by the server)', async () => {
    await kv.create('token-b', 'spent');
    await assert.rejects(kv.create('token-b', 'spent'), /wrong last sequence|key exists/i);
  });

  it('keys() and watch() work on this server', async () => {
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    assert.deepEqual(keys.sort(), ['token-a', 'token-b']);

    const watch = await kv.watch({ key: 'token-c' });
    await kv.put('token-c', 'spent');
    for await (const e of watch) {
      assert.equal(e.key, 'token-c');
      assert.equal(e.string(), 'spent');
      break;
    }
    watch.stop();
  });

  // Per-key TTLs (kv.create(k, v, markerTTL)) need server 2.11 and 2.9 silently ignores them;
  // the bucket-wide ttl (the stream's max_age) is what expires entries here.
  it("a bucket's ttl expires its entries", async () => {
    const short = await new Kvm(ingress).create('short-lived', { ttl: 500 });
    await short.put('token-x', 'spent');
    await eventually('the entry to expire', async () => (await short.get('token-x')) === null, {
      timeoutMs: 5_000,
    });
    await short.destroy();
  });

  it('EGRESS cannot see the bucket', async () => {
    const egressJsm = await jetstreamManager(egress);
    const names: string[] = [];
    for await (const s of egressJsm.streams.list()) names.push(s.config.name);
    assert.deepEqual(names, []);
    await assert.rejects(egressJsm.streams.info(`KV_${BUCKET}`), /stream not found/);
    const egressKv = await new Kvm(egress).open(BUCKET);
    await assert.rejects(egressKv.get('token-a'), /stream not found|no responders|not found/i);
  });

  it('an EGRESS write to the same $KV subject stays in EGRESS', async () => {
    const violations = watchPermissionErrors(egress);
    egress.publish(`$KV.${BUCKET}.token-a`, 'overwritten by egress');
    await egress.flush();
    assert.deepEqual(violations.seen, []);
    assert.equal((await kv.get('token-a'))?.string(), 'spent');
  });

  it('the auditor has no JetStream at all', async () => {
    const auditor = await connectAs('auditor', server.url);
    try {
      const violations = watchPermissionErrors(auditor);
      await assert.rejects(jetstreamManager(auditor));
      await violations.waitFor({ operation: 'publish', subject: '$JS.API.INFO' });
    } finally {
      await auditor.close();
    }
  });

  it('the bucket survives a restart of the server', async () => {
    await server.restart();
    const again = await connectAs('ingress', server.url);
    try {
      const reopened = await new Kvm(again).open(BUCKET);
      assert.equal((await reopened.get('token-a'))?.string(), 'spent');
    } finally {
      await again.close();
    }
  });
});
