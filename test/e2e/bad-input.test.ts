/**
 * Every refusal gets its status and reason, the relays stay up, and a concurrent good flow
 * carries on untouched. Refused targets are loopback addresses outside the egress's
 * allowlist: the policy refuses them before any packet is sent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { RelayError } from '@splitrelay/errors';
import { selfSigned } from '@splitrelay/devcerts';
import type { SplitRelayClient } from '@splitrelay/sdk';
import { ADDR, INGRESS_NAME, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { dnsStub, type DnsStub } from '@splitrelay/test-kit/dns-stub';
import { eventually } from '@splitrelay/test-kit/eventually';
import { tlsExchange, trunkVerdict } from '@splitrelay/test-kit/raw';
import { socksRequest } from '@splitrelay/test-kit/socks-client';
import { run } from '@splitrelay/test-kit/run';

const T = { timeout: 30_000 };
let world: World;
let echo: Awaited<ReturnType<typeof echoTarget>>;
let dns: DnsStub;
let client: SplitRelayClient;
let ca: string;

/** A flow that keeps streaming for the whole suite; checked at the end. */
let good: {
  flow: Duplex;
  sent: ReturnType<typeof createHash>;
  got: ReturnType<typeof createHash>;
  timer: NodeJS.Timeout;
  bytes: number;
};

before(async () => {
  dns = await dnsStub(ADDR.target);
  world = await startWorld({
    egressExtra: {
      policy: { allowCidrs: ['127.0.4.0/24'], denyPorts: [25] },
      dns: { hosts: {}, servers: [dns.address] },
      timeouts: { handshakeMs: 2000, idleMs: 2500, connectMs: 1500, dnsMs: 1500 },
    },
    ingressExtra: { timeouts: { handshakeMs: 1500, idleMs: 300_000 } },
  });
  echo = await echoTarget(ADDR.target);
  client = sdkClient(world);
  ca = readFileSync(world.deployment.caCert, 'utf8');
  const flow = await client.connect({ host: ADDR.target, port: echo.port });
  good = {
    flow,
    sent: createHash('sha256'),
    got: createHash('sha256'),
    timer: setInterval(() => {}, 1000),
    bytes: 0,
  };
  flow.on('data', (c: Buffer) => {
    good.got.update(c);
    good.bytes += c.length;
  });
  clearInterval(good.timer);
  // Sent often enough that the egress's 2.5 s idle timeout never fires on it.
  good.timer = setInterval(() => {
    const chunk = randomBytes(16 * 1024);
    good.sent.update(chunk);
    flow.write(chunk);
  }, 100);
});

after(async () => {
  clearInterval(good?.timer);
  client?.close();
  await echo?.close();
  await dns?.close();
  await world?.stop();
  await world?.cleanup();
});

const ingressPeer = () => ({
  host: ADDR.ingress,
  port: world.ingressPort,
  servername: INGRESS_NAME,
  ca,
  localAddress: ADDR.client,
});

async function refusal(target: { host: string; port: number }): Promise<RelayError> {
  try {
    const flow = await client.connect(target);
    flow.destroy();
  } catch (err) {
    assert.ok(err instanceof RelayError, String(err));
    return err;
  }
  assert.fail(`${target.host}:${target.port} was not refused`);
}

describe('the ingress is not an open proxy and refuses bad requests', T, () => {
  test('CONNECT to an egress not in the directory: 403 with a reason', async () => {
    const res = await tlsExchange(
      ingressPeer(),
      'CONNECT nope:443 HTTP/1.1\r\nHost: nope:443\r\n\r\n',
    );
    assert.match(res, /^HTTP\/1\.1 403 /);
    assert.match(
      res,
      /proxy-status: splitrelay-ingress; error=http_request_denied; details="no such egress in the directory"/i,
    );
  });

  test('CONNECT to a target (address or name) is refused and never dialled', async () => {
    const before = echo.peers.length;
    const refusedBefore = world.ingress.lines.filter((l) => l.includes('"refused"')).length;
    for (const authority of [
      `${ADDR.target}:${echo.port}`,
      `target.splitrelay.test:443`,
      `[::1]:${echo.port}`,
    ]) {
      const res = await tlsExchange(
        ingressPeer(),
        `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`,
      );
      assert.match(res, /^HTTP\/1\.1 403 /, authority);
      assert.match(res, /error=http_request_denied/);
    }
    assert.equal(echo.peers.length, before);
    // A client that names its target to the ingress leaks it, but the ingress must not keep
    // it: not even its debug log (this world logs at debug) may hold the name. Once every
    // refusal is in the log, the log is checked whole.
    await eventually(
      'every refusal logged',
      () => world.ingress.lines.filter((l) => l.includes('"refused"')).length >= refusedBefore + 3,
    );
    assert.ok(
      !world.ingress.lines.some((l) => l.includes('target.splitrelay.test')),
      'the ingress log kept a target name',
    );
  });

  test('plain and absolute-form requests get 405', async () => {
    const res = await tlsExchange(
      ingressPeer(),
      `GET http://${ADDR.target}:${echo.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    assert.match(res, /^HTTP\/1\.1 405 /);
    assert.equal(echo.peers.filter((p) => p === ADDR.ingress).length, 0);
  });

  test('garbage gets 400, an oversized head 431', async () => {
    assert.match(
      await tlsExchange(ingressPeer(), 'HELLO\x00\x01 garbage\r\n\r\n'),
      /^HTTP\/1\.1 400 /,
    );
    const big = `CONNECT egress-1:443 HTTP/1.1\r\nHost: egress-1:443\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`;
    const res = await tlsExchange(ingressPeer(), big);
    assert.match(res, /^HTTP\/1\.1 431 /);
    assert.match(res, /proxy-status: splitrelay-ingress; error=http_request_error/i);
  });

  test('a connection that never starts TLS is closed after the handshake timeout', async () => {
    const socket = net.connect({
      host: ADDR.ingress,
      port: world.ingressPort,
      localAddress: ADDR.client,
    });
    await once(socket, 'connect');
    const started = Date.now();
    socket.on('error', () => {});
    socket.resume();
    await once(socket, 'close');
    const waited = Date.now() - started;
    assert.ok(waited >= 1000 && waited < 6000, `closed after ${waited} ms`);
  });
});

describe('the egress refuses targets with RFC 9209 reasons', T, () => {
  test('a loopback address outside the allowlist: 403 destination_ip_prohibited', async () => {
    const err = await refusal({ host: ADDR.ingress, port: world.ingressPort });
    assert.equal(err.status, 403);
    assert.equal(err.proxyError, 'destination_ip_prohibited');
  });

  test('localhost and an IPv4-mapped address are refused too', async () => {
    assert.equal((await refusal({ host: 'localhost', port: echo.port })).code, 'target-prohibited');
    assert.equal(
      (await refusal({ host: '::ffff:127.0.4.1', port: echo.port })).code,
      'target-prohibited',
    );
  });

  test('a denied port: 403 http_request_denied', async () => {
    const err = await refusal({ host: ADDR.target, port: 25 });
    assert.equal(err.status, 403);
    assert.equal(err.proxyError, 'http_request_denied');
  });

  test('a name that does not resolve: 502 dns_error, resolved at the egress', async () => {
    const queriesBefore = dns.queries;
    const err = await refusal({ host: 'nx.splitrelay.test', port: 443 });
    assert.equal(err.status, 502);
    assert.equal(err.proxyError, 'dns_error');
    assert.match(err.details, /NXDOMAIN/);
    assert.ok(dns.queries > queriesBefore, "the egress's resolver was asked");
  });

  test('a closed port: 502 connection_refused', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, ADDR.target, () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const err = await refusal({ host: ADDR.target, port: closed });
    assert.equal(err.status, 502);
    assert.equal(err.proxyError, 'connection_refused');
  });

  test('a target that never accepts: 504 connection_timeout', async () => {
    // A listener whose accept queue is full drops further SYNs, so connects hang.
    const holder: ChildProcess = spawn('python3', [
      '-c',
      `import socket,sys,time\ns=socket.socket();s.bind(('${ADDR.target}',0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)`,
    ]);
    try {
      const [line] = (await once(holder.stdout!, 'data')) as [Buffer];
      const port = Number(line.toString().trim());
      const fillers = Array.from({ length: 4 }, () =>
        net.connect({ host: ADDR.target, port }).on('error', () => {}),
      );
      await new Promise((r) => setTimeout(r, 200));
      const err = await refusal({ host: ADDR.target, port });
      fillers.forEach((f) => f.destroy());
      assert.equal(err.status, 504);
      assert.equal(err.proxyError, 'connection_timeout');
    } finally {
      holder.kill();
    }
  });

  test('a malformed target: 400 http_request_error', async () => {
    const err = await refusal({ host: '-bad-', port: 443 });
    assert.equal(err.status, 400);
    assert.equal(err.proxyError, 'http_request_error');
  });

  test('an idle flow is closed by the egress idle timeout', async () => {
    const flow = await client.connect({ host: ADDR.target, port: echo.port });
    flow.resume();
    // The egress resets the stream: an idle close must not look like the target's clean end.
    let reset = false;
    flow.on('error', () => (reset = true));
    const started = Date.now();
    await new Promise((resolve) => flow.once('close', resolve));
    assert.equal(reset, true);
    const waited = Date.now() - started;
    assert.ok(waited >= 2000 && waited < 8000, `closed after ${waited} ms`);
  });
});

describe('the local proxies pass the reasons on', T, () => {
  test('SOCKS5 maps refusals to reply codes', async () => {
    const refused = await socksRequest(world.socks, 'connect', { host: ADDR.ingress, port: 443 });
    assert.equal(refused.reply, 0x02, 'not allowed by ruleset');
    refused.socket.destroy();
    const nx = await socksRequest(world.socks, 'connect', {
      host: 'nx.splitrelay.test',
      port: 443,
    });
    assert.equal(nx.reply, 0x04, 'host unreachable');
    nx.socket.destroy();
    const ok = await socksRequest(world.socks, 'connect', { host: ADDR.target, port: echo.port });
    assert.equal(ok.reply, 0x00);
    ok.socket.destroy();
  });

  test('the HTTP proxy answers with the egress status and Proxy-Status', async () => {
    const res = await run('curl', [
      '--silent',
      '--include',
      '--max-time',
      '10',
      '--proxy',
      `http://127.0.0.1:${world.httpPort}`,
      `https://${ADDR.ingress}:443/`,
    ]);
    assert.match(res.stdout, /HTTP\/1\.1 403/);
    assert.match(res.stdout, /error=destination_ip_prohibited/);
  });
});

describe('the egress admits only known ingresses', T, () => {
  const egressPort = (): number => Number(String(world.egresses[0]!.ready.listen).split(':').pop());

  const trunkHandshake = (auth: { cert?: string; key?: string }) =>
    trunkVerdict({ host: ADDR.egress(0), port: egressPort() }, auth);

  test('an unknown certificate and no certificate are refused; the known one is admitted', async () => {
    const stranger = await selfSigned({ commonName: 'stranger', usage: 'client' });
    assert.equal(await trunkHandshake({ cert: stranger.certPem, key: stranger.keyPem }), 'refused');
    assert.equal(await trunkHandshake({}), 'refused');
    assert.equal(
      await trunkHandshake({
        cert: readFileSync(world.deployment.ingress.trunkCert, 'utf8'),
        key: readFileSync(world.deployment.ingress.trunkKey, 'utf8'),
      }),
      'ok',
    );
  });
});

describe('after all that', T, () => {
  test('the concurrent good flow is intact and every relay is still up', async () => {
    clearInterval(good.timer);
    const sentDigest = good.sent.copy().digest('hex');
    good.flow.end();
    await once(good.flow, 'end');
    assert.ok(good.bytes > 100_000, `good flow carried ${good.bytes} bytes`);
    assert.equal(good.got.digest('hex'), sentDigest);
    for (const app of [world.ingress, world.client, ...world.egresses])
      assert.equal(app.process.exitCode, null, app.name);
  });
});
