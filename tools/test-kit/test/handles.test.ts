/** The leaked-handle check catches a left socket or server, and not a closed one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { activeResources, assertNoLeakedHandles, openNetworkHandles } from '../src/handles.ts';

const baseline = activeResources();

test('a connection left open is a leak; closed, it is not', async () => {
  await assertNoLeakedHandles();
  const server = net.createServer((s) => s.on('error', () => {}));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // A listening server is not a connection (a world's targets stay up across tests).
  assert.deepEqual(openNetworkHandles(), []);
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  assert.ok(openNetworkHandles().includes('TCPSocketWrap'));
  await assert.rejects(assertNoLeakedHandles(), /left behind/);
  client.destroy();
  // The server's side of the connection closes once the reset reaches it.
  await assertNoLeakedHandles({ graceMs: 2000 });
  // Against the baseline, the listening server and a timer count too.
  await assert.rejects(assertNoLeakedHandles({ baseline }), /left behind/);
  server.close();
  const timer = setTimeout(() => {}, 10_000);
  await assert.rejects(assertNoLeakedHandles({ baseline }), (err: assert.AssertionError) => {
    assert.ok((err.actual as string[]).includes('Timeout'));
    return true;
  });
  clearTimeout(timer);
  await assertNoLeakedHandles({ baseline });
});

test('graceMs waits for handles that are still closing', async () => {
  const server = net.createServer((s) => s.on('error', () => {}));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  setTimeout(() => client.destroy(), 100);
  await assert.rejects(assertNoLeakedHandles(), /left behind/);
  await assertNoLeakedHandles({ graceMs: 2000 });
  server.close();
  await assertNoLeakedHandles({ baseline, graceMs: 500 });
});
