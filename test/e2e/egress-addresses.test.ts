/**
 * Source address pools through the real egress: hundreds of inner sessions, each through the
 * ingress to a loopback target that records the peer address it sees. The addresses must
 * spread over the pool as uniform draws do, one session's draw must not depend on the last
 * one's, and every flow of a session (TCP and UDP) must leave from the same address.
 *
 * Both tests are chi-square tests at a fixed false-alarm rate (ALPHA per test), not timings.
 * The negative controls run the same tests against egresses whose draws are broken on
 * purpose (tools/test-kit/src/sticky-draw-preload.ts): one that gives every session the same
 * address, and one that walks the pool in order, which is perfectly uniform and therefore
 * caught only by the serial test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spkiPin } from '@splitrelay/directory';
import { openInnerSession, type InnerSession } from '@splitrelay/inner-session';
import { openOuterTunnel } from '@splitrelay/outer-hop';
import { ADDR, INGRESS_NAME, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
// The core's own chi-square helpers: the same tests as its unit tests, on real sessions.
import { chiSquare, serialChiSquare } from '../../packages/core/egress-addresses/test/stats.ts';

const T = { timeout: 180_000 };
/** False-alarm rate of each test on a sound egress. */
const ALPHA = 1e-4;
/** The controls must fail far below it. */
const CONTROL_BAR = 1e-8;

// 30 + 14 = 44 usable addresses in two prefixes of different sizes (network and broadcast
// addresses are never drawn), all local on Linux without any setup.
const POOL = ['127.0.10.0/27', '127.0.10.64/28'];
const USABLE = [
  ...Array.from({ length: 30 }, (_, i) => `127.0.10.${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `127.0.10.${65 + i}`),
];
const K = USABLE.length;
/** 10 sessions expected per address. */
const SESSIONS = 10 * K;

const STICKY_PRELOAD = fileURLToPath(
  new URL('../../tools/test-kit/src/sticky-draw-preload.ts', import.meta.url),
);

function label(address: string): number {
  const i = USABLE.indexOf(address.replace(/^::ffff:/, ''));
  assert.ok(i >= 0, `the target saw ${address}, which is not a usable pool address`);
  return i;
}

function uniformity(labels: readonly number[]) {
  const counts = new Array<number>(K).fill(0);
  for (const l of labels) counts[l]! += 1;
  return chiSquare(counts, new Array<number>(K).fill(1 / K));
}

/**
 * Consecutive sessions, folded to 4 groups (with their exact probabilities) so that each of
 * the 16 cells expects about 14 of the 220 disjoint pairs.
 */
function serial(labels: readonly number[]) {
  const groups = 4;
  const probabilities = Array.from(
    { length: groups },
    (_, g) => USABLE.filter((_, i) => i % groups === g).length / K,
  );
  return serialChiSquare(
    labels.map((l) => l % groups),
    probabilities,
  );
}

describe('egress address pools, through the real egress', T, () => {
  let world: World;
  let target: Awaited<ReturnType<typeof echoTarget>>;
  let udpEcho: dgram.Socket;
  const udpPeers: string[] = [];
  let ca: string;

  before(async () => {
    world = await startWorld({
      egresses: 3,
      logLevel: 'info',
      egressExtra: {
        localAddress: undefined,
        addresses: {
          defaultRegion: 'nl',
          entropyFloorBits: 5,
          regions: [{ id: 'nl', country: 'NL', ipv4: POOL }],
        },
      },
      egressProcess: (id) =>
        id === 'egress-1'
          ? undefined
          : {
              nodeArgs: ['--import', STICKY_PRELOAD],
              env: { SPLITRELAY_STICKY_DRAW: id === 'egress-2' ? 'constant' : 'cycle' },
            },
    });
    target = await echoTarget(ADDR.target);
    udpEcho = dgram.createSocket('udp4');
    udpEcho.on('message', (msg, rinfo) => {
      udpPeers.push(rinfo.address);
      udpEcho.send(msg, rinfo.port, rinfo.address);
    });
    udpEcho.bind(target.port, ADDR.target);
    await once(udpEcho, 'listening');
    ca = readFileSync(world.deployment.caCert, 'utf8');
  });

  after(async () => {
    udpEcho?.close();
    await target?.close();
    await world?.stop();
    await world?.cleanup();
  });

  async function session(egressId: string): Promise<InnerSession> {
    const carrier = await openOuterTunnel({
      ingress: { host: ADDR.ingress, port: world.ingressPort, servername: INGRESS_NAME, ca },
      egressId,
      handshakeTimeoutMs: 5000,
      localAddress: ADDR.client,
    });
    const cert = readFileSync(world.deployment.egress[egressId]!.cert, 'utf8');
    return openInnerSession(carrier, {
      egressId,
      pins: [spkiPin(cert)],
      handshakeTimeoutMs: 5000,
      flowTimeoutMs: 5000,
    });
  }

  /** One TCP flow through the session; resolves with the address the target saw. */
  async function tcpPeer(s: InnerSession): Promise<string> {
    const before = target.peers.length;
    const flow = await s.openFlow({ host: ADDR.target, port: target.port });
    flow.end('x');
    for await (const _ of flow) {
      // Drain the echo: the flow ends once the target has answered.
    }
    assert.equal(target.peers.length, before + 1);
    return target.peers[before]!;
  }

  /** One new session per draw, one flow each: the sequence of addresses the target saw. */
  async function sessionSources(egressId: string, n: number): Promise<number[]> {
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = await session(egressId);
      try {
        labels.push(label(await tcpPeer(s)));
      } finally {
        s.close();
      }
    }
    return labels;
  }

  test('sessions spread uniformly over the pool and each draw is independent of the last', async (t) => {
    const started = performance.now();
    const labels = await sessionSources('egress-1', SESSIONS);
    const seconds = (performance.now() - started) / 1000;
    const u = uniformity(labels);
    const s = serial(labels);
    t.diagnostic(
      `${SESSIONS} sessions in ${seconds.toFixed(1)} s; uniformity chi2=${u.statistic.toFixed(1)} df=${u.df} p=${u.p.toFixed(3)}; serial chi2=${s.statistic.toFixed(1)} df=${s.df} p=${s.p.toFixed(3)}; ${new Set(labels).size}/${K} addresses seen`,
    );
    assert.ok(u.p > ALPHA, `uniformity: chi2=${u.statistic.toFixed(1)} p=${u.p}`);
    assert.ok(s.p > ALPHA, `serial: chi2=${s.statistic.toFixed(1)} p=${s.p}`);
  });

  test('every flow of a session leaves from its address, TCP and UDP alike', async () => {
    for (let i = 0; i < 5; i++) {
      const s = await session('egress-1');
      try {
        const peers = [await tcpPeer(s), await tcpPeer(s)];
        const udp = await s.openUdp({ host: ADDR.target, port: target.port });
        const before = udpPeers.length;
        const echoed = once(udp, 'datagram');
        udp.send(Buffer.from('ping'));
        await echoed;
        udp.close();
        peers.push(udpPeers[before]!);
        label(peers[0]!);
        assert.deepEqual(peers, [peers[0], peers[0], peers[0]], `session ${i}`);
      } finally {
        s.close();
      }
    }
  });

  test('the draw counters reach the stats lines: totals, and per region and family', async () => {
    const records = () =>
      world.egresses[0]!.lines.filter((l) => l.startsWith('{')).map(
        (l) => JSON.parse(l) as Record<string, unknown>,
      );
    const deadline = Date.now() + 5000;
    let stats: Record<string, unknown> | undefined;
    let region: Record<string, unknown> | undefined;
    while (Date.now() < deadline) {
      stats = records()
        .filter((r) => r.event === 'stats')
        .at(-1);
      region = records()
        .filter((r) => r.event === 'address draws')
        .at(-1);
      if (stats?.drawSessions === SESSIONS + 5 && region?.ipv4Draws === SESSIONS + 5) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(stats?.drawSessions, SESSIONS + 5);
    assert.equal(stats?.hintsDefault, SESSIONS + 5);
    assert.equal(stats?.hintsInvalid, 0);
    assert.deepEqual(
      { region: region?.region, ipv4Draws: region?.ipv4Draws, ipv6Draws: region?.ipv6Draws },
      { region: 'nl', ipv4Draws: SESSIONS + 5, ipv6Draws: 0 },
    );
    // Nothing the egress logged names a pool address.
    assert.ok(!world.egresses[0]!.lines.some((l) => l.includes('127.0.10.')));
  });

  test('negative control: one address for every session fails the uniformity test', async (t) => {
    const labels = await sessionSources('egress-2', SESSIONS / 4);
    const u = uniformity(labels);
    t.diagnostic(`uniformity p=${u.p.toExponential(1)} (${new Set(labels).size} address seen)`);
    assert.ok(u.p < CONTROL_BAR, `the sticky egress passed: p=${u.p}`);
  });

  test('negative control: walking the pool in order passes uniformity but fails the serial test', async (t) => {
    const labels = await sessionSources('egress-3', SESSIONS);
    const u = uniformity(labels);
    const s = serial(labels);
    t.diagnostic(`uniformity p=${u.p.toFixed(3)}, serial p=${s.p.toExponential(1)}`);
    // Every address equally often: uniformity alone would not catch this mapping.
    assert.ok(u.p > 0.5, `uniformity p=${u.p}`);
    assert.ok(s.p < CONTROL_BAR, `the cycling egress passed: p=${s.p}`);
  });
});
