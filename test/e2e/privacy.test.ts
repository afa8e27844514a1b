/**
 * The separation claim, checked on real processes for each carrier of the outer hop (HTTP/1.1
 * CONNECT, h2 CONNECT, WebSocket): everything the ingress read, parsed and logged during real
 * traffic holds no trace of the target (name, address, port, in every encoding); everything the
 * egress did holds no trace of the client's address. Each capture has positive controls (it
 * saw the traffic the test moved, and the same search finds what its party may know) and a
 * negative control: leaky peers of that carrier give twins of the identities away, and the same
 * search must find them (see separation.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import tls from 'node:tls';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { headerValues, headsOf, type Capture } from '@splitrelay/capture';
import { openOuterTunnel } from '@splitrelay/outer-hop';
import { tlsExchange } from '@splitrelay/test-kit/raw';
import { ADDR, INGRESS_NAME, type World } from '@splitrelay/test-kit/world';
import {
  LEAK_CLIENT,
  LEAK_CLIENT_PORT,
  bypass,
  cleanRunChecks,
  h2Connect,
  ingressH2,
  innerHttp1Udp,
  innerSessionOver,
  leakClientOf,
  leakTargetOf,
  leakyControlChecks,
  leakyTrunk,
  proxyV2,
  runSetup,
  throughClientApp,
  throughSession,
  withTimeout,
  type Run,
  type Target,
} from './separation.ts';

const T = { timeout: 120_000 };

const relays = (world: World) => ({
  ingress: world.ingress,
  'egress-egress-1': world.egresses[0]!,
});
const ca = (world: World): string => readFileSync(world.deployment.caCert, 'utf8');

/** The clean traffic reached both captures: the ingress's carrier heads and the egress's flows. */
const settledWith =
  (carrierHeads: (ingress: Capture) => number) =>
  (parties: Run['before']): boolean =>
    carrierHeads(parties.ingress!.capture) > 0 &&
    headsOf(parties['egress-egress-1']!.capture, 'h2-request').some((h) =>
      h.target?.startsWith('/.well-known/masque/udp/'),
    );

/** Heads of each carrier asking for egress-1. */
const connectHeads = (c: Capture) =>
  headsOf(c, 'http1-connect').filter((h) => h.target === 'egress-1:443').length;
const h2ConnectHeads = (c: Capture) =>
  headsOf(c, 'h2-request').filter((h) => h.method === 'CONNECT' && h.target === 'egress-1:443')
    .length;
const upgradeHeads = (c: Capture) =>
  headsOf(c, 'http1-upgrade').filter((h) => h.target === '/.well-known/splitrelay/ws/egress-1')
    .length;

/** An outer tunnel to egress-1 as the client makes it, on a carrier, with extra headers. */
const tunnel = (world: World, carrier: 'connect' | 'websocket', headers?: Record<string, string>) =>
  openOuterTunnel({
    ingress: {
      host: ADDR.ingress,
      port: world.ingressPort,
      servername: INGRESS_NAME,
      ca: ca(world),
    },
    egressId: 'egress-1',
    handshakeTimeoutMs: 5000,
    localAddress: ADDR.client,
    carrier,
    ...(headers ? { headers } : {}),
  });

/** Writes bytes into a tunnel and gives the ingress time to read and pass them on. */
async function send(carrier: Duplex, bytes: Buffer | string): Promise<void> {
  carrier.on('error', () => {});
  await new Promise<void>((r) => carrier.write(bytes, () => r()));
  // The egress ends the tunnel when the bytes fail as inner TLS: both relays have read them.
  await withTimeout(once(carrier, 'close'), 5000, 'the tunnel stayed open').catch(() => {});
  carrier.destroy();
}

/** The leaky ingress and the client bypassing it: every carrier's egress-side control. */
async function leakToEgress(world: World): Promise<void> {
  await leakyTrunk(world, { forwarded: `for=${LEAK_CLIENT}` });
  await leakyTrunk(
    world,
    {},
    proxyV2({ ip: LEAK_CLIENT, port: LEAK_CLIENT_PORT }, { ip: ADDR.egress(0), port: 443 }),
  );
  await bypass(world, LEAK_CLIENT);
}

const egressLeaks = {
  identities: leakClientOf,
  forms: ['dotted-quad/text', 'ipv4/raw', 'proxy-v2-src:ipv4/raw'],
};

describe('HTTP/1.1 CONNECT carrier: the client app as shipped', T, () => {
  let run: Run;
  before(async () => {
    run = await runSetup({
      world: {},
      parties: relays,
      async traffic(world, target) {
        const moved = await throughClientApp(world, target);
        await innerHttp1Udp(world, target);
        return moved;
      },
      settled: (p) =>
        settledWith(connectHeads)(p) &&
        headsOf(p['egress-egress-1']!.capture, 'http1-upgrade').length > 0,
      async leak(world, leak: Target) {
        // A leaky client names the target in a header of its CONNECT, and asks for it outright.
        (await tunnel(world, 'connect', { 'x-leak': `${leak.name}:${leak.port}` })).destroy();
        await tlsExchange(
          { host: ADDR.ingress, port: world.ingressPort, servername: INGRESS_NAME, ca: ca(world) },
          `CONNECT ${leak.ip}:${leak.port} HTTP/1.1\r\nHost: ${leak.ip}:${leak.port}\r\n\r\n`,
          2000,
        );
        // And in binary, as a PROXY v2 header at the start of the tunnel.
        await send(
          await tunnel(world, 'connect'),
          proxyV2({ ip: LEAK_CLIENT, port: LEAK_CLIENT_PORT }, { ip: leak.ip, port: leak.port }),
        );
        await leakToEgress(world);
      },
    });
  });
  after(async () => {
    await run?.world.stop();
    await run?.world.cleanup();
  });
  cleanRunChecks(() => run, { what: 'CONNECT naming egress-1', heads: connectHeads });
  test("positive control: the egress's capture holds the inner HTTP/1.1 upgrade head", () => {
    const [upgrade] = headsOf(run.after['egress-egress-1']!.capture, 'http1-upgrade');
    assert.ok(upgrade, 'an upgrade head at the egress');
    assert.ok(
      upgrade.target?.startsWith('/.well-known/masque/udp/127.0.4.1/'),
      upgrade.target ?? '',
    );
    assert.deepEqual(headerValues(upgrade, 'upgrade'), ['connect-udp']);
  });
  leakyControlChecks(() => run, {
    ingress: {
      identities: leakTargetOf,
      forms: [
        'name:port/text',
        'dotted-quad:port/text',
        'proxy-v2-dst:ipv4/raw',
        'port-in-authority/text',
      ],
    },
    'egress-egress-1': egressLeaks,
  });
});

describe('h2 CONNECT carrier: an inner session over an h2 stream through the ingress', T, () => {
  let run: Run;
  before(async () => {
    run = await runSetup({
      world: {},
      parties: relays,
      async traffic(world, target) {
        const session = await ingressH2(world);
        try {
          const { stream, status } = await h2Connect(session);
          if (status !== 200) throw new Error(`the ingress answered ${status}`);
          const inner = await innerSessionOver(world, stream);
          try {
            return await throughSession(inner, target, ca(world));
          } finally {
            inner.close();
          }
        } finally {
          session.destroy();
        }
      },
      settled: settledWith(h2ConnectHeads),
      async leak(world, leak: Target) {
        const session = await ingressH2(world);
        try {
          // Header values are HPACK (Huffman) coded on the wire; the parser decodes them.
          (await h2Connect(session, { 'x-leak': `${leak.ip}:${leak.port}` })).stream.destroy();
          const b64 = Buffer.from(`${leak.name}:${leak.port}`).toString('base64');
          (await h2Connect(session, { 'x-leak-b64': b64 })).stream.destroy();
          // Asking the ingress for the target itself as the authority.
          (await h2Connect(session, {}, `${leak.name}:${leak.port}`)).stream.destroy();
          // A leaky client tells the egress its own address inside the inner session, in hex.
          const { stream } = await h2Connect(session);
          const innerTls = tls.connect({
            socket: stream,
            servername: 'egress-1',
            ALPNProtocols: ['h2'],
            rejectUnauthorized: false,
          });
          innerTls.on('error', () => {});
          await once(innerTls, 'secureConnect');
          const inner = http2.connect('https://egress-1', { createConnection: () => innerTls });
          inner.on('error', () => {});
          const request = inner.request({
            ':method': 'CONNECT',
            // An address, so the egress resolves nothing; nothing listens there.
            ':authority': `${leak.ip}:${leak.port}`,
            'x-client': Buffer.from(LEAK_CLIENT.split('.').map(Number)).toString('hex'),
          });
          request.on('error', () => {});
          await withTimeout(once(request, 'response'), 5000, 'no inner answer').catch(() => {});
          request.destroy();
          inner.destroy();
        } finally {
          session.destroy();
        }
        await leakToEgress(world);
      },
    });
  });
  after(async () => {
    await run?.world.stop();
    await run?.world.cleanup();
  });
  cleanRunChecks(() => run, { what: 'h2 CONNECT naming egress-1', heads: h2ConnectHeads });
  leakyControlChecks(() => run, {
    ingress: {
      identities: leakTargetOf,
      forms: ['dotted-quad:port/text', 'name:port/base64', 'name:port/text', 'name/text'],
    },
    'egress-egress-1': { ...egressLeaks, forms: [...egressLeaks.forms, 'ipv4/hex'] },
  });
});

describe('WebSocket carrier: the client app configured for it', T, () => {
  let run: Run;
  before(async () => {
    run = await runSetup({
      world: { clientCarrier: 'websocket' },
      parties: relays,
      traffic: throughClientApp,
      settled: settledWith(upgradeHeads),
      async leak(world, leak: Target) {
        const key = Buffer.from('leaky websocket!').toString('base64');
        // The target in the upgrade's path (percent-encoded, as a query) and in a header.
        await tlsExchange(
          { host: ADDR.ingress, port: world.ingressPort, servername: INGRESS_NAME, ca: ca(world) },
          `GET /.well-known/splitrelay/ws/egress-1?to=${leak.name}%3A${leak.port} HTTP/1.1\r\n` +
            `Host: ${INGRESS_NAME}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
            `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n` +
            `Sec-WebSocket-Protocol: ${Buffer.from(`${leak.ip}:${leak.port}`).toString('base64url')}\r\n\r\n`,
          2000,
        );
        // In a WebSocket message: masked on the wire, read by the ingress once unmasked.
        await send(await tunnel(world, 'websocket'), `${leak.ip}:${leak.port}`);
        // The client tells the egress its own address at the start of the tunnel.
        await send(
          await tunnel(world, 'websocket'),
          proxyV2({ ip: LEAK_CLIENT, port: LEAK_CLIENT_PORT }, { ip: ADDR.egress(0), port: 443 }),
        );
        await bypass(world, LEAK_CLIENT);
      },
    });
  });
  after(async () => {
    await run?.world.stop();
    await run?.world.cleanup();
  });
  cleanRunChecks(() => run, { what: 'WebSocket upgrade to egress-1', heads: upgradeHeads });
  leakyControlChecks(() => run, {
    ingress: {
      identities: leakTargetOf,
      forms: ['name:port/percent', 'dotted-quad:port/base64', 'dotted-quad:port/text'],
    },
    'egress-egress-1': {
      identities: leakClientOf,
      forms: ['dotted-quad/text', 'proxy-v2-src:ipv4/raw'],
    },
  });
});
