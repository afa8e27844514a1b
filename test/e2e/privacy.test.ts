/**
 * The separation claim, checked on real processes: everything the ingress decrypts, parses
 * and logs during real traffic holds no trace of the target; everything the egress sees
 * (its decoded requests, its peers, its logs) holds no trace of the client's address.
 * Each check has a negative control: a deliberately leaky setup that the same check must
 * catch, so a check that cannot fail would fail here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import type https from 'node:https';
import { openOuterTunnel } from '@splitrelay/outer-hop';
import {
  ADDR,
  INGRESS_NAME,
  TARGET_NAME,
  startWorld,
  type World,
  worldHttpsTarget,
} from '@splitrelay/test-kit/world';
import type { Listening } from '@splitrelay/test-kit/targets';
import { findLeaks, targetNeedles } from '@splitrelay/test-kit/leak-check';
import { run } from '@splitrelay/test-kit/run';
import { captureHaystacks, headsOf, type Capture } from '@splitrelay/capture';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';

const T = { timeout: 60_000 };

async function curlThroughBothProxies(world: World, targetPort: number): Promise<void> {
  const common = [
    '--silent',
    '--show-error',
    '--max-time',
    '15',
    '--cacert',
    world.deployment.caCert,
  ];
  const url = `https://${TARGET_NAME}:${targetPort}/`;
  const viaSocks = await run('curl', [
    ...common,
    '--proxy',
    `socks5h://127.0.0.1:${world.socksPort}`,
    url,
  ]);
  assert.equal(viaSocks.code, 0, viaSocks.stderr);
  assert.match(viaSocks.stdout, /hello from the target/);
  const viaHttp = await run('curl', [
    ...common,
    '--proxy',
    `http://127.0.0.1:${world.httpPort}`,
    url,
  ]);
  assert.equal(viaHttp.code, 0, viaHttp.stderr);
  const byAddress = await run('curl', [
    ...common,
    '--proxy',
    `socks5h://127.0.0.1:${world.socksPort}`,
    `https://${ADDR.target}:${targetPort}/`,
  ]);
  assert.equal(byAddress.code, 0, byAddress.stderr);
}

/** UDP to the same port number as the TCP target, by name and by address, via the SDK. */
async function udpThroughBothRelays(world: World, port: number): Promise<void> {
  const echo = dgram.createSocket('udp4');
  echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
  echo.bind(port, ADDR.target);
  await once(echo, 'listening');
  const client = sdkClient(world);
  try {
    for (const host of [TARGET_NAME, ADDR.target]) {
      const flow = await client.openUdp({ host, port });
      const echoed = new Promise<Buffer>((resolve) => flow.once('datagram', resolve));
      flow.send(Buffer.from(`datagram to ${host}`));
      assert.equal((await echoed).toString(), `datagram to ${host}`);
      flow.close();
    }
  } finally {
    client.close();
    echo.close();
  }
}

describe('a clean run: neither relay learns what it must not', T, () => {
  let world: World;
  let target: Listening<https.Server>;
  let ingressSaw: Capture;
  let egressSaw: Capture;

  before(async () => {
    world = await startWorld({ capture: true });
    target = await worldHttpsTarget(world);
    await curlThroughBothProxies(world, target.port);
    await udpThroughBothRelays(world, target.port);
    await world.stop();
    ingressSaw = await world.capture('ingress');
    egressSaw = await world.capture('egress-egress-1');
  });
  after(async () => {
    await target?.close();
    await world?.stop();
    await world?.cleanup();
  });

  test('the capture worked: each relay recorded its peers and real traffic', () => {
    assert.ok(ingressSaw.readBytes > 10_000, `ingress capture is ${ingressSaw.readBytes} bytes`);
    assert.ok(
      ingressSaw.peers.some((p) => p.direction === 'in' && p.remoteAddress === ADDR.client),
      'the ingress saw the client connect',
    );
    assert.ok(
      headsOf(ingressSaw, 'http1-connect', 'h2-request').some((h) => h.target === 'egress-1:443'),
      'the ingress saw which egress was asked for',
    );
    assert.ok(
      egressSaw.peers.some((p) => p.direction === 'in' && p.remoteAddress === ADDR.ingress),
      'the egress saw the ingress connect',
    );
    assert.ok(
      headsOf(egressSaw, 'h2-request').some((h) =>
        h.target?.startsWith('/.well-known/masque/udp/'),
      ),
      'the egress saw the UDP flows',
    );
    // The egress does see the target: the same search finds it there.
    assert.ok(
      findLeaks(
        captureHaystacks(egressSaw, 'egress'),
        targetNeedles({ name: TARGET_NAME, ip: ADDR.target, port: target.port }),
      ).length > 0,
    );
  });

  test('the ingress never saw the target name, address or port', () => {
    const leaks = findLeaks(
      { ...captureHaystacks(ingressSaw, 'ingress'), logs: world.ingress.lines.join('\n') },
      // The UDP template path would mean the ingress had parsed an inner request.
      [...targetNeedles({ name: TARGET_NAME, ip: ADDR.target, port: target.port }), 'masque/udp'],
    );
    assert.deepEqual(leaks, []);
  });

  test("the egress never saw the client's address", () => {
    const leaks = findLeaks(
      { ...captureHaystacks(egressSaw, 'egress'), logs: world.egresses[0]!.lines.join('\n') },
      [ADDR.client],
    );
    assert.deepEqual(leaks, []);
  });
});

describe('negative controls: deliberately leaky setups are caught by the same checks', T, () => {
  let world: World;
  let targetPort: number;

  before(async () => {
    world = await startWorld({ capture: true });
    targetPort = 4433;
    const ca = readFileSync(world.deployment.caCert, 'utf8');

    // 1. A leaky client tells the ingress its target in a header of the outer CONNECT.
    const tunnel = await openOuterTunnel({
      ingress: { host: ADDR.ingress, port: world.ingressPort, servername: INGRESS_NAME, ca },
      egressId: world.egressIds[0]!,
      handshakeTimeoutMs: 5000,
      localAddress: ADDR.client,
      headers: { 'x-leak': `${TARGET_NAME}:${targetPort}` },
    });
    tunnel.destroy();

    // 2. The same over ALPN h2, where header values are HPACK/Huffman-coded on the wire.
    const h2 = http2.connect(`https://${ADDR.ingress}:${world.ingressPort}`, {
      ca,
      servername: INGRESS_NAME,
      localAddress: ADDR.client,
    } as http2.SecureClientSessionOptions);
    const req = h2.request({
      ':method': 'CONNECT',
      ':authority': `${world.egressIds[0]}:443`,
      'x-leak': `${ADDR.target}:${targetPort}`,
    });
    await once(req, 'response');
    req.destroy();
    h2.destroy();

    // 3. A leaky ingress forwards the client's address to the egress (Forwarded header).
    const trunk = http2.connect(`https://${world.egressIds[0]}`, {
      createConnection: () =>
        tls.connect({
          host: ADDR.egress(0),
          port: Number(String(world.egresses[0]!.ready.listen).split(':').pop()),
          cert: readFileSync(world.deployment.ingress.trunkCert),
          key: readFileSync(world.deployment.ingress.trunkKey),
          rejectUnauthorized: false,
          ALPNProtocols: ['h2'],
          // Passed on to net.connect; @types/node omits it from tls.ConnectionOptions.
          ...({ localAddress: ADDR.ingress } as tls.ConnectionOptions),
        }),
    });
    const leaky = trunk.request({
      ':method': 'CONNECT',
      ':authority': `${world.egressIds[0]}:443`,
      forwarded: `for=${ADDR.client}`,
    });
    await once(leaky, 'response');
    leaky.destroy();
    trunk.destroy();

    // 4. A client that bypasses the ingress reaches the egress from its own address.
    const direct = net.connect({
      host: ADDR.egress(0),
      port: Number(String(world.egresses[0]!.ready.listen).split(':').pop()),
      localAddress: ADDR.client,
    });
    await once(direct, 'connect');
    direct.destroy();
    await new Promise((r) => setTimeout(r, 200));
    await world.stop();
  });
  after(async () => {
    await world?.stop();
    await world?.cleanup();
  });

  test('a target named to the ingress (HTTP/1.1 and h2) is found', async () => {
    const leaks = findLeaks(
      captureHaystacks(await world.capture('ingress'), 'ingress'),
      targetNeedles({ name: TARGET_NAME, ip: ADDR.target, port: targetPort }),
    );
    const needles = new Set(leaks.map((l) => l.needle));
    assert.ok(needles.has(`${TARGET_NAME}:${targetPort}`), JSON.stringify(leaks));
    assert.ok(needles.has(`${ADDR.target}:${targetPort}`), JSON.stringify(leaks));
  });

  test('a client address forwarded to, or connecting to, the egress is found', async () => {
    const capture = await world.capture('egress-egress-1');
    const leaks = findLeaks(captureHaystacks(capture, 'egress'), [ADDR.client]);
    assert.ok(leaks.length > 0);
    assert.ok(
      leaks.some((l) => l.where.includes('h2-request') && l.context.includes(`for=${ADDR.client}`)),
      'the Forwarded header was caught',
    );
    assert.ok(
      capture.peers.some((p) => p.remoteAddress === ADDR.client),
      'the direct peer was caught',
    );
  });
});
