/**
 * Geo hints, on real processes: the client's location setting reaches the egress inside the
 * inner session and selects the pool its source address is drawn from; everything the
 * ingress decrypts, parses and logs holds no trace of it; "country only" sends the country
 * and nothing more. Each check has a negative control that the same check must catch: a
 * client that names its location to the ingress, and a client that shares more than its
 * country.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import { openOuterTunnel } from '@splitrelay/outer-hop';
import type { SplitRelayClientOptions } from '@splitrelay/sdk';
import {
  ADDR,
  INGRESS_NAME,
  TARGET_NAME,
  startWorld,
  worldHttpsTarget,
  type World,
} from '@splitrelay/test-kit/world';
import { echoTarget, type Listening } from '@splitrelay/test-kit/targets';
import { findLeaks } from '@splitrelay/test-kit/leak-check';
import { captureHaystacks, headsOf, type Capture } from '@splitrelay/capture';
import { run } from '@splitrelay/test-kit/run';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';

const T = { timeout: 90_000 };

/** Four regions, each with its own loopback range (local on Linux without setup). */
const ADDRESSES = {
  defaultRegion: 'nl',
  entropyFloorBits: 4,
  countryDefaults: { DE: 'de' },
  regions: [
    { id: 'nl', country: 'NL', ipv4: ['127.0.10.0/27'] },
    { id: 'de', country: 'DE', ipv4: ['127.0.13.0/27'] },
    {
      id: 'de-munich',
      country: 'DE',
      subdivision: 'DE-BY',
      city: 'München',
      geohash: 'u281z',
      ipv4: ['127.0.11.0/27'],
    },
    {
      id: 'fr-paris',
      country: 'FR',
      subdivision: 'FR-IDF',
      city: 'Paris',
      geohash: 'u09tv',
      ipv4: ['127.0.12.0/27'],
    },
  ],
};
const POOL_OF: Readonly<Record<string, string>> = {
  '127.0.10': 'nl',
  '127.0.13': 'de',
  '127.0.11': 'de-munich',
  '127.0.12': 'fr-paris',
};
const MUNICH = { latitude: 48.137, longitude: 11.575 }; // geohash u281...
const PARIS = { latitude: 48.857, longitude: 2.352 }; // geohash u09t...

function regionOf(peer: string): string {
  const region = POOL_OF[peer.split('.').slice(0, 3).join('.')];
  assert.ok(region, `the target saw ${peer}, outside every pool`);
  return region;
}

/** Every h2 request head a captured process handled, as it logged it. */
function h2Heads(capture: Capture): Record<string, unknown>[] {
  return headsOf(capture, 'h2-request').map((h) => Object.fromEntries(h.headers));
}

/**
 * What a capture holds beyond a country: a geohash field, or a region field that is not
 * exactly a quoted two-letter code. The "country only" check, and its control.
 */
function moreThanCountry(capture: Capture): string[] {
  const found: string[] = [];
  for (const head of h2Heads(capture)) {
    if (head['sec-ch-geohash'] !== undefined)
      found.push(`sec-ch-geohash: ${String(head['sec-ch-geohash'])}`);
    const region = head['sec-ch-ip-geo'];
    if (region !== undefined && !/^"[A-Z]{2}"$/.test(String(region)))
      found.push(`sec-ch-ip-geo: ${String(region)}`);
  }
  return found;
}

/** Everything that would tell the ingress where a client said it was. */
const HINT_NEEDLES = [
  'sec-ch-geohash',
  'Sec-CH-Geohash',
  'sec-ch-ip-geo',
  'Sec-CH-IP-Geo',
  'u281',
  'u09t',
];

const egressExtra = { localAddress: undefined, addresses: ADDRESSES };

async function curlPeer(
  world: World,
  socksPort: number,
  target: Listening<https.Server>,
): Promise<string> {
  const res = await run('curl', [
    '--silent',
    '--show-error',
    '--max-time',
    '15',
    '--cacert',
    world.deployment.caCert,
    '--dump-header',
    '-',
    '--output',
    '/dev/null',
    '--proxy',
    `socks5h://127.0.0.1:${socksPort}`,
    `https://${TARGET_NAME}:${target.port}/`,
  ]);
  assert.equal(res.code, 0, res.stderr);
  const peer = /^x-seen-peer: (\S+)/im.exec(res.stdout)?.[1];
  assert.ok(peer, res.stdout);
  return peer;
}

/** The region of the source address an in-process SDK client's flows leave from. */
async function sdkRegion(
  world: World,
  echo: Awaited<ReturnType<typeof echoTarget>>,
  location: SplitRelayClientOptions['location'],
): Promise<string> {
  const client = sdkClient(world, location ? { location } : {});
  try {
    const regions = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const before = echo.peers.length;
      const flow = await client.connect({ host: ADDR.target, port: echo.port });
      flow.end('x');
      for await (const _ of flow) {
        // Drained: the echo answered.
      }
      regions.add(regionOf(echo.peers[before]!));
    }
    assert.equal(regions.size, 1, 'one session, one source address');
    return [...regions][0]!;
  } finally {
    client.close();
  }
}

describe('general location: the hint selects the pool, and only the egress sees it', T, () => {
  let world: World;
  let target: Listening<https.Server>;
  let echo: Awaited<ReturnType<typeof echoTarget>>;
  const regions: Record<string, string> = {};
  let ingressSaw: Capture;
  let egressSaw: Capture;

  before(async () => {
    world = await startWorld({
      capture: true,
      egressExtra,
      clientExtra: { location: { share: 'general-location', country: 'DE', ...MUNICH } },
    });
    target = await worldHttpsTarget(world);
    echo = await echoTarget(ADDR.target);
    regions.app = regionOf(await curlPeer(world, world.socksPort, target));
    regions.paris = await sdkRegion(world, echo, {
      choice: { mode: 'general-location' },
      where: { ...PARIS, country: 'FR' },
    });
    regions.countryFr = await sdkRegion(world, echo, {
      choice: { mode: 'country-only' },
      where: { ...PARIS, country: 'FR' },
    });
    regions.none = await sdkRegion(world, echo, {
      choice: { mode: 'none' },
      where: { ...MUNICH, country: 'DE' },
    });
    regions.noSetting = await sdkRegion(world, echo, undefined);
    await world.stop();
    ingressSaw = await world.capture('ingress');
    egressSaw = await world.capture('egress-egress-1');
  });
  after(async () => {
    await target?.close();
    await echo?.close();
    await world?.stop();
    await world?.cleanup();
  });

  test('the hint selects the region whose pool the session draws from', () => {
    assert.deepEqual(regions, {
      app: 'de-munich',
      paris: 'fr-paris',
      // A country with only a subdivision's region: that region serves it.
      countryFr: 'fr-paris',
      none: 'nl',
      noSetting: 'nl',
    });
  });

  test('the egress received the hints inside the inner sessions', () => {
    const geohashes = h2Heads(egressSaw)
      .map((h) => h['sec-ch-geohash'])
      .filter((v) => v !== undefined);
    assert.ok(geohashes.includes('"u281"'), JSON.stringify(geohashes));
    assert.ok(geohashes.includes('"u09t"'), JSON.stringify(geohashes));
    // The same search that must find nothing at the ingress finds them here.
    assert.ok(findLeaks(captureHaystacks(egressSaw, 'egress'), HINT_NEEDLES).length >= 3);
  });

  test('the ingress never saw a hint: not in what it decrypted, parsed or logged', () => {
    assert.ok(ingressSaw.readBytes > 10_000, `ingress read ${ingressSaw.readBytes} bytes`);
    assert.ok(
      ingressSaw.peers.some((p) => p.direction === 'in' && p.remoteAddress === ADDR.client),
      'the ingress saw the client connect',
    );
    const leaks = findLeaks(
      { ...captureHaystacks(ingressSaw, 'ingress'), logs: world.ingress.lines.join('\n') },
      HINT_NEEDLES,
    );
    assert.deepEqual(leaks, []);
  });

  test('the egress logged no hint and no pool address', () => {
    const logs = world.egresses[0]!.lines.join('\n');
    assert.deepEqual(
      findLeaks({ logs }, [...HINT_NEEDLES, '127.0.11.', '127.0.12.', '127.0.10.']),
      [],
    );
  });

  test('control for "country only": this capture holds more than a country, and the check says so', () => {
    const found = moreThanCountry(egressSaw);
    assert.ok(
      found.some((f) => f.startsWith('sec-ch-geohash')),
      JSON.stringify(found),
    );
  });
});

describe('country only: the country, and nothing more, reaches the egress', T, () => {
  let world: World;
  let target: Listening<https.Server>;
  let region: string;
  let egressSaw: Capture;

  before(async () => {
    world = await startWorld({
      capture: true,
      egressExtra,
      // The device knows its coordinates too: country-only must not send them.
      clientExtra: { location: { share: 'country-only', country: 'de', ...MUNICH, precision: 5 } },
    });
    target = await worldHttpsTarget(world);
    region = regionOf(await curlPeer(world, world.socksPort, target));
    await world.stop();
    egressSaw = await world.capture('egress-egress-1');
  });
  after(async () => {
    await target?.close();
    await world?.stop();
    await world?.cleanup();
  });

  test('the country-level region serves it (countryDefaults), not the city the device is in', () => {
    assert.equal(region, 'de');
  });

  test('every request carried exactly the country, and no request carried anything finer', () => {
    // The inner sessions' requests; the trunk's own CONNECTs (the ingress naming this egress)
    // carry no hint by design.
    const heads = h2Heads(egressSaw).filter(
      (h) => h[':method'] === 'CONNECT' && h[':authority'] !== `${world.egressIds[0]}:443`,
    );
    assert.ok(heads.length > 0);
    for (const head of heads) assert.equal(head['sec-ch-ip-geo'], '"DE"');
    assert.deepEqual(moreThanCountry(egressSaw), []);
    assert.deepEqual(
      findLeaks(captureHaystacks(egressSaw, 'egress'), ['sec-ch-geohash', 'u281']),
      [],
    );
  });
});

describe('negative control: a client that names its location to the ingress is caught', T, () => {
  let world: World;

  before(async () => {
    world = await startWorld({ capture: true, egressExtra });
    const ca = readFileSync(world.deployment.caCert, 'utf8');
    // The hint on the outer CONNECT, where it must never go.
    const tunnel = await openOuterTunnel({
      ingress: { host: ADDR.ingress, port: world.ingressPort, servername: INGRESS_NAME, ca },
      egressId: world.egressIds[0]!,
      handshakeTimeoutMs: 5000,
      localAddress: ADDR.client,
      headers: { 'sec-ch-geohash': '"u281"' },
    });
    tunnel.destroy();
    await new Promise((r) => setTimeout(r, 200));
    await world.stop();
  });
  after(async () => {
    await world?.stop();
    await world?.cleanup();
  });

  test('the same search finds the hint in what the ingress parsed', async () => {
    const leaks = findLeaks(
      captureHaystacks(await world.capture('ingress'), 'ingress'),
      HINT_NEEDLES,
    );
    const needles = new Set(leaks.map((l) => l.needle));
    assert.ok(needles.has('sec-ch-geohash') && needles.has('u281'), JSON.stringify(leaks));
  });
});
