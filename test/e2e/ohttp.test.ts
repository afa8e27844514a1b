/**
 * Oblivious HTTP end to end, on real processes: the SDK's ohttpFetch and the client app's
 * loopback endpoint and DNS forwarder, through the ingress's relay and the egress's gateway,
 * to a loopback HTTPS target and to a real resolver (dnsmasq) by DoH. The privacy capture
 * then checks the split: the relay's observations hold no target and none of the request's
 * plaintext; the gateway's hold no client address. The negative control is a leaky relay that
 * forwards the client's address to the gateway: the same search finds it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { encodeRequest } from '@splitrelay/bhttp';
import { captureHaystacks, headerValues, headsOf, type Capture } from '@splitrelay/capture';
import { ohttpKeysBytes } from '@splitrelay/directory';
import { decodeKeys, encapsulateRequest } from '@splitrelay/ohttp';
import type { SplitRelayClient } from '@splitrelay/sdk';
import { ADDR, TARGET_NAME, startWorld, type World } from '@splitrelay/test-kit/world';
import { findLeaks, targetNeedles } from '@splitrelay/test-kit/leak-check';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { startDnsmasq, type Dnsmasq } from '@splitrelay/test-kit/dnsmasq';
import { buildQuery, parseAnswer } from '@splitrelay/test-kit/dns-message';
import { run } from '@splitrelay/test-kit/run';

const T = { timeout: 90_000 };
const DNS_HOST = '127.0.4.53';
const DNS_PORT = 5301;
const ASKED = 'oblivious.splitrelay.test';
/** Plaintext that only the client and the gateway may ever see. */
const SECRET = 'plaintext-only-the-gateway-reads-7f3a';

/** An HTTPS target that answers with what it was asked: method, path and body. */
async function echoTarget(world: World): Promise<{ port: number; close(): Promise<void> }> {
  const server = https.createServer(
    {
      cert: await readFile(world.deployment.target.cert),
      key: await readFile(world.deployment.target.key),
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, {
          'content-type': 'text/plain',
          'x-seen-peer': req.socket.remoteAddress ?? '',
        });
        res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()} from-target`);
      });
    },
  );
  server.listen(0, ADDR.target);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function askDns(
  port: number,
  id: number,
  name: string,
): Promise<ReturnType<typeof parseAnswer>> {
  const socket = dgram.createSocket('udp4');
  try {
    socket.send(buildQuery(id, name), port, '127.0.0.1');
    const [msg] = (await Promise.race([
      once(socket, 'message'),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no DNS answer')), 10_000),
      ),
    ])) as [Buffer];
    return parseAnswer(msg);
  } finally {
    socket.close();
  }
}

describe('a clean run: the relay learns no target or plaintext, the gateway no client', T, () => {
  let world: World;
  let target: Awaited<ReturnType<typeof echoTarget>>;
  let dnsmasq: Dnsmasq;
  let client: SplitRelayClient;
  let ingressSaw: Capture;
  let egressSaw: Capture;
  const results: Record<string, string> = {};

  before(async () => {
    dnsmasq = await startDnsmasq(DNS_HOST, DNS_PORT, { [ASKED]: '192.0.2.77' });
    world = await startWorld({
      ohttp: { kems: ['x25519', 'x-wing'] },
      capture: true,
      logLevel: 'info',
      dohUpstream: `${DNS_HOST}:${DNS_PORT}`,
    });
    target = await echoTarget(world);
    const url = `https://${TARGET_NAME}:${target.port}/${SECRET}-path?q=${SECRET}-query`;
    client = sdkClient(world);

    // 1. The SDK, plain and chunked, X25519 and X-Wing.
    const plain = await client.ohttpFetch(url, { method: 'POST', body: `${SECRET}-body` });
    results.plain = `${plain.status} ${await plain.text()} ${plain.headers.get('x-seen-peer')}`;
    const chunked = await client.ohttpFetch(url, { chunked: true });
    results.chunked = `${chunked.status} ${await chunked.text()}`;
    const xwing = sdkClient(world, { ohttp: { preferKemId: 0x647a } });
    try {
      const pq = await xwing.ohttpFetch(url);
      results.xwing = `${pq.status} ${await pq.text()}`;
    } finally {
      xwing.close();
    }
    // 2. The client app's loopback endpoint, by curl.
    const viaEndpoint = await run('curl', [
      '--silent',
      '--show-error',
      '--max-time',
      '15',
      `http://127.0.0.1:${world.ohttpPort}/${url}`,
    ]);
    results.endpoint = `${viaEndpoint.code} ${viaEndpoint.stdout} ${viaEndpoint.stderr}`;
    // 3. The client app's DNS forwarder: DoH through the gateway to the egress's resolver.
    const answer = await askDns(world.dnsPort!, 0x1234, ASKED);
    results.dns = JSON.stringify(answer);
    client.close();
    await new Promise((r) => setTimeout(r, 300));
    await world.stop();
    ingressSaw = await world.capture('ingress');
    egressSaw = await world.capture('egress-egress-1');
  });
  after(async () => {
    client?.close();
    await target?.close();
    await world?.stop();
    await world?.cleanup();
    await dnsmasq?.stop();
  });

  test('ohttpFetch reaches the target, plain, chunked and with X-Wing; the target sees the egress', () => {
    const body = `/${SECRET}-path?q=${SECRET}-query ${SECRET}-body from-target`;
    assert.equal(results.plain, `200 POST ${body} ${ADDR.egress(0)}`);
    assert.equal(results.chunked, `200 GET /${SECRET}-path?q=${SECRET}-query  from-target`);
    assert.equal(results.xwing, `200 GET /${SECRET}-path?q=${SECRET}-query  from-target`);
  });

  test('the loopback endpoint relays a local program’s request', () => {
    assert.match(results.endpoint ?? '', /^0 GET \/plaintext-only.* from-target/);
  });

  test('the DNS forwarder answers through DoH, with the asker’s ID', () => {
    const answer = JSON.parse(results.dns ?? '{}') as ReturnType<typeof parseAnswer>;
    assert.equal(answer.id, 0x1234);
    assert.deepEqual(answer.addresses, ['192.0.2.77']);
    // The resolver was asked by the egress, never by the client.
    assert.ok(dnsmasq.queries().some((q) => q.includes(ASKED) && q.includes(ADDR.egress(0))));
  });

  test('the capture worked: the relay saw the client and relayed; the gateway saw the target', () => {
    assert.ok(
      ingressSaw.peers.some((p) => p.direction === 'in' && p.remoteAddress === ADDR.client),
      'the relay saw the client',
    );
    assert.ok(
      headsOf(ingressSaw, 'http1-request', 'h2-request').some(
        (h) => h.method === 'POST' && h.target === '/.well-known/splitrelay/ohttp-relay/egress-1',
      ),
      'the relay saw the relay requests',
    );
    assert.ok(
      headsOf(egressSaw, 'h2-request').some(
        (h) => h.method === 'POST' && h.target === '/.well-known/splitrelay/ohttp-gateway',
      ),
      'the gateway saw the relayed requests',
    );
    // The gateway does read the plaintext (here in the target's answer it received): the same
    // search finds it in the gateway's capture.
    const found = findLeaks(captureHaystacks(egressSaw, 'egress'), [SECRET]);
    assert.ok(found.length > 0, 'the plaintext is in the gateway capture');
    assert.ok(found.every((l) => l.needle === SECRET));
  });

  test('the relay never saw the target, the DoH name asked, or any plaintext', () => {
    const haystacks = {
      ...captureHaystacks(ingressSaw, 'ingress'),
      logs: world.ingress.lines.join('\n'),
    };
    const leaks = findLeaks(haystacks, [
      ...targetNeedles({ name: TARGET_NAME, ip: ADDR.target, port: target.port }),
      SECRET,
      ASKED,
      'oblivious',
      'dns.splitrelay.invalid',
    ]);
    assert.deepEqual(leaks, []);
  });

  test("the gateway never saw the client's address", () => {
    const leaks = findLeaks(
      {
        ...captureHaystacks(egressSaw, 'egress'),
        logs: world.egresses[0]!.lines.join('\n'),
      },
      [ADDR.client],
    );
    assert.deepEqual(leaks, []);
  });
});

describe('negative control: a leaky relay that forwards the client address is caught', T, () => {
  let world: World;
  let target: Awaited<ReturnType<typeof echoTarget>>;
  let status = 0;

  before(async () => {
    world = await startWorld({ ohttp: true, capture: true, logLevel: 'info' });
    target = await echoTarget(world);
    // A relay that adds what the real one never does: the client's address.
    const entry = world.deployment.entries[0]!;
    const [config] = decodeKeys(ohttpKeysBytes(entry.ohttpKeys!)).value;
    const { encapsulatedRequest } = await encapsulateRequest(
      config!,
      encodeRequest({
        method: 'GET',
        scheme: 'https',
        authority: `${TARGET_NAME}:${target.port}`,
        path: '/',
        headers: [],
        content: new Uint8Array(0),
        trailers: [],
      }),
    );
    const cert = await readFile(world.deployment.ingress.trunkCert);
    const key = await readFile(world.deployment.ingress.trunkKey);
    const trunk = http2.connect(`https://egress-1`, {
      createConnection: () =>
        tls.connect({
          host: ADDR.egress(0),
          port: Number(String(world.egresses[0]!.ready.listen).split(':').pop()),
          cert,
          key,
          rejectUnauthorized: false,
          ALPNProtocols: ['h2'],
          ...({ localAddress: ADDR.ingress } as tls.ConnectionOptions),
        }),
    });
    const leaky = trunk.request({
      ':method': 'POST',
      ':path': '/.well-known/splitrelay/ohttp-gateway',
      ':authority': 'egress-1',
      'content-type': 'message/ohttp-req',
      forwarded: `for=${ADDR.client}`,
      'x-forwarded-for': ADDR.client,
    });
    leaky.end(encapsulatedRequest);
    const [headers] = (await once(leaky, 'response')) as [http2.IncomingHttpHeaders];
    status = Number(headers[':status']);
    leaky.resume();
    await once(leaky, 'end');
    trunk.destroy();
    await new Promise((r) => setTimeout(r, 200));
    await world.stop();
  });
  after(async () => {
    await target?.close();
    await world?.stop();
    await world?.cleanup();
  });

  test('the gateway answered the leaky request, and the search finds the address', async () => {
    assert.equal(status, 200);
    const capture = await world.capture('egress-egress-1');
    const leaks = findLeaks(captureHaystacks(capture, 'egress'), [ADDR.client]);
    assert.ok(leaks.length > 0, 'the forwarded address is found');
    assert.ok(
      headsOf(capture, 'h2-request').some((h) =>
        headerValues(h, 'forwarded').includes(`for=${ADDR.client}`),
      ),
    );
  });
});
