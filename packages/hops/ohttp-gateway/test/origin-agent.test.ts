/**
 * The origin agent's `source`: asked once for every new connection undici opens, and the
 * connection really leaves from what it gave (a loopback target records its peers). Without
 * it, the dialer's own source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { compilePolicy } from '@splitrelay/target-policy';
import { createTargetDialer, type SourceAddresses } from '@splitrelay/target-dialer';
import { createOriginAgent } from '../src/index.ts';

const HOST = '127.0.0.1';

async function recordingTarget() {
  const peers: string[] = [];
  const connections: string[] = [];
  const server = http.createServer((req, res) => {
    peers.push(req.socket.remoteAddress ?? '');
    // `/close` ends the connection with the answer: the next request needs a new one.
    res.writeHead(200, req.url === '/close' ? { connection: 'close' } : {});
    res.end('ok');
  });
  server.on('connection', (socket) => connections.push(socket.remoteAddress ?? ''));
  server.listen(0, HOST);
  await once(server, 'listening');
  return { server, peers, connections, port: (server.address() as AddressInfo).port };
}

const dialer = createTargetDialer({
  policy: compilePolicy({ allowCidrs: ['127.0.0.1/32'] }),
  connectTimeoutMs: 2000,
  dnsTimeoutMs: 1000,
});

async function get(agent: ReturnType<typeof createOriginAgent>, origin: string, path: string) {
  const res = await agent.request({ origin, path, method: 'GET' });
  assert.equal(res.statusCode, 200);
  await res.body.text();
}

test('each new connection asks for a source once and leaves from it', async () => {
  const target = await recordingTarget();
  const given: SourceAddresses[] = [];
  // Every 127/8 address is local on Linux: three distinct sources without any set-up.
  const agent = createOriginAgent({
    dialer,
    connectTimeoutMs: 2000,
    source: () => {
      const source = { ipv4: `127.0.0.${2 + (given.length % 3)}` };
      given.push(source);
      return source;
    },
  });
  const origin = `http://${HOST}:${target.port}`;
  try {
    for (let i = 0; i < 4; i++) await get(agent, origin, '/close');
    assert.deepEqual(
      target.peers,
      given.map((s) => s.ipv4),
    );
    assert.deepEqual(target.peers, ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.2']);
    // Kept alive: requests share connections (undici may open another while one is still
    // being freed), and only a new connection asks.
    for (let i = 0; i < 6; i++) await get(agent, origin, '/keep');
    assert.ok(target.connections.length < target.peers.length, 'a connection was reused');
    assert.deepEqual(
      target.connections,
      given.map((s) => s.ipv4),
    );
  } finally {
    await agent.close();
    target.server.closeAllConnections();
    target.server.close();
  }
});

test('without a source, the dialer’s own', async () => {
  const target = await recordingTarget();
  const agent = createOriginAgent({ dialer, connectTimeoutMs: 2000 });
  try {
    await get(agent, `http://${HOST}:${target.port}`, '/close');
    assert.deepEqual(target.peers, ['127.0.0.1']);
  } finally {
    await agent.close();
    target.server.closeAllConnections();
    target.server.close();
  }
});
