/**
 * The kit's own promises: the server comes back on the same port with its store after an
 * outage, clients that reconnect pick up where they were, configuration errors surface with
 * the server's own words, and nothing is left running.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { connectAs, freePort, NATS_CONFIG_DIR, startNats, TEST_CREDENTIALS } from '../src/index.ts';
import { assertNoLeakedHandles, publishUntilSeen, record } from './helpers.ts';

/** Resolves on the connection's next status event of `type`. */
async function nextStatus(nc: NatsConnection, type: string): Promise<void> {
  for await (const s of nc.status()) if (s.type === type) return;
}

describe('server lifecycle', () => {
  after(assertNoLeakedHandles);

  it('restart() keeps the URL and a reconnecting client comes back', async () => {
    const server = await startNats();
    const { url, port } = server;
    const opts = { reconnectTimeWait: 50, maxReconnectAttempts: -1 };
    const ingress = await connectAs('ingress', url, opts);
    const egress = await connectAs('egress', url, opts);
    try {
      const health = record(ingress.subscribe('splitrelay.health.egress.>'));
      const reconnected = Promise.all([
        nextStatus(ingress, 'reconnect'),
        nextStatus(egress, 'reconnect'),
      ]);
      const pid = server.process.pid;
      await server.restart();
      assert.equal(server.url, url);
      assert.equal(server.port, port);
      assert.notEqual(server.process.pid, pid);
      await reconnected;
      await publishUntilSeen(egress, 'splitrelay.health.egress.after-restart', [health]);
    } finally {
      await Promise.all([ingress.close(), egress.close()]);
      await server.stop();
    }
  });

  it('kill() is an outage: clients wait, and restart() ends it', async () => {
    const server = await startNats();
    const ingress = await connectAs('ingress', server.url, {
      reconnectTimeWait: 50,
      maxReconnectAttempts: -1,
    });
    try {
      const disconnected = nextStatus(ingress, 'disconnect');
      await server.kill();
      assert.equal(server.running, false);
      await disconnected;
      const reconnected = nextStatus(ingress, 'reconnect');
      await server.restart();
      await reconnected;
      await ingress.flush();
    } finally {
      await ingress.close();
      await server.stop();
    }
  });

  it('takes a given port and store directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'splitrelay-nats-given-'));
    const port = await freePort('127.0.7.2');
    const server = await startNats({ host: '127.0.7.2', port, storeDir: dir, serverName: 'given' });
    try {
      assert.equal(server.url, `nats://127.0.7.2:${port}`);
      assert.ok(server.logs().some((l) => l.includes(`Store Directory: "${dir}/jetstream"`)));
      assert.ok(server.logs().some((l) => l.includes('Name:     given')));
    } finally {
      await server.stop();
    }
    // The caller's directory is the caller's to remove: the kit left it in place.
    await rm(join(dir, 'jetstream'), { recursive: true });
    await rm(dir, { recursive: true });
  });

  it('refuses a wrong password and an unknown user', async () => {
    const server = await startNats();
    try {
      for (const [user, pass] of [
        ['ingress', 'wrong'],
        ['nobody', TEST_CREDENTIALS.ingress.pass],
      ]) {
        await assert.rejects(
          connect({ servers: server.url, user, pass, reconnect: false }),
          /Authorization Violation/i,
        );
      }
      await assert.rejects(connect({ servers: server.url, reconnect: false }), /Authorization/i);
    } finally {
      await server.stop();
    }
  });

  it("a config error surfaces in the server's own words", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'splitrelay-nats-bad-'));
    const file = join(dir, 'bad.conf');
    await writeFile(
      file,
      `listen: $SPLITRELAY_NATS_LISTEN\nauthorization { password: $SPLITRELAY_NATS_UNSET_FOR_TEST }\ninclude ${join(NATS_CONFIG_DIR, 'accounts.conf')}\n`,
    );
    try {
      await assert.rejects(startNats({ configFile: file }), /SPLITRELAY_NATS_UNSET_FOR_TEST/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
