/**
 * IPv6 pools through the real egress. An IPv6 pool is a /64 bound as AnyIP, which needs a
 * route (`ip -6 route add local <prefix> dev lo`) and net.ipv6.ip_nonlocal_bind: host-wide
 * settings, so this file runs itself again inside a network namespace of its own
 * (`unshare -n`, root only), where both vanish with it, whatever happens to the run.
 *
 * Inside: sessions to an IPv6 target must leave from interface identifiers drawn uniformly
 * over the /64 (chi-square on the identifier's top nibble, and a serial test on consecutive
 * sessions, at a fixed false-alarm rate), a session's IPv4 and IPv6 flows each leave from
 * its own draw of that family, and an egress that gives every session the same address is
 * caught by the same test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spkiPin } from '@splitrelay/directory';
import { openInnerSession, type InnerSession } from '@splitrelay/inner-session';
import { openOuterTunnel } from '@splitrelay/outer-hop';
import { parseAddress } from '@splitrelay/egress-addresses';
import { ADDR, INGRESS_NAME, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { chiSquare, serialChiSquare } from '../../packages/core/egress-addresses/test/stats.ts';

const PREFIX = '2001:db8:5e:2::/64';
const NETWORK = 0x2001_0db8_005e_0002n;
const ALPHA = 1e-4;
const CONTROL_BAR = 1e-8;
const SESSIONS = 320;
const self = fileURLToPath(import.meta.url);
const STICKY_PRELOAD = fileURLToPath(
  new URL('../../tools/test-kit/src/sticky-draw-preload.ts', import.meta.url),
);

if (process.env.SPLITRELAY_E2E_NETNS !== '1') {
  test('IPv6 pools, in a network namespace of its own', { timeout: 240_000 }, (t) => {
    if (process.getuid?.() !== 0 || !existsSync('/usr/bin/unshare')) {
      t.skip('needs root and unshare(1) for a private network namespace');
      return;
    }
    const setup = [
      'ip link set lo up',
      'sysctl -qw net.ipv6.ip_nonlocal_bind=1',
      `ip -6 route add local ${PREFIX} dev lo`,
      'exec "$0" --test --test-reporter=spec "$1"',
    ].join(' && ');
    const res = spawnSync('unshare', ['-n', 'sh', '-c', setup, process.execPath, self], {
      // A test runner of its own: NODE_TEST_CONTEXT would make it report to this one instead.
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, SPLITRELAY_E2E_NETNS: '1' },
      encoding: 'utf8',
      timeout: 230_000,
    });
    for (const line of res.stdout.split('\n').filter((l) => /^\s*(ℹ|✔|✖)/.test(l)))
      t.diagnostic(line.trim());
    assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`);
    // The inner run did run its tests (a runner that found none would also exit 0).
    assert.match(res.stdout, /ℹ pass 3\n/);
    assert.match(res.stdout, /ℹ fail 0\n/);
  });
} else {
  describe('inside the namespace: IPv6 draws through the real egress', { timeout: 200_000 }, () => {
    let world: World;
    let target4: Awaited<ReturnType<typeof echoTarget>>;
    let target6: Awaited<ReturnType<typeof echoTarget>>;
    let ca: string;

    before(async () => {
      world = await startWorld({
        egresses: 2,
        logLevel: 'info',
        allowCidrs: ['127.0.4.0/24', '::1/128'],
        egressExtra: {
          localAddress: undefined,
          addresses: {
            defaultRegion: 'nl',
            entropyFloorBits: 15,
            regions: [{ id: 'nl', country: 'NL', ipv4: ['127.10.0.0/16'], ipv6: [PREFIX] }],
          },
        },
        egressProcess: (id) =>
          id === 'egress-2'
            ? {
                nodeArgs: ['--import', STICKY_PRELOAD],
                env: { SPLITRELAY_STICKY_DRAW: 'constant' },
              }
            : undefined,
      });
      target4 = await echoTarget(ADDR.target);
      target6 = await echoTarget('::1');
      ca = readFileSync(world.deployment.caCert, 'utf8');
    });
    after(async () => {
      await target4?.close();
      await target6?.close();
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
      return openInnerSession(carrier, {
        egressId,
        pins: [spkiPin(readFileSync(world.deployment.egress[egressId]!.cert, 'utf8'))],
        handshakeTimeoutMs: 5000,
        flowTimeoutMs: 5000,
      });
    }

    async function peer(s: InnerSession, target: typeof target4, host: string): Promise<string> {
      const before = target.peers.length;
      const flow = await s.openFlow({ host, port: target.port });
      flow.end('x');
      for await (const _ of flow) {
        // Drained: the echo answered.
      }
      return target.peers[before]!;
    }

    /** The interface identifier of a pool address (the low 64 bits). */
    function iid(address: string): bigint {
      const a = parseAddress(address);
      assert.ok(
        a && a.family === 6 && a.value >> 64n === NETWORK,
        `${address} is outside ${PREFIX}`,
      );
      return a.value & ((1n << 64n) - 1n);
    }

    async function iids(egressId: string, n: number): Promise<bigint[]> {
      const out: bigint[] = [];
      for (let i = 0; i < n; i++) {
        const s = await session(egressId);
        try {
          out.push(iid(await peer(s, target6, '::1')));
        } finally {
          s.close();
        }
      }
      return out;
    }

    const uniform16 = new Array<number>(16).fill(1 / 16);
    const nibbles = (xs: readonly bigint[]) => xs.map((x) => Number(x >> 60n));
    function uniformity(xs: readonly bigint[]) {
      const counts = new Array<number>(16).fill(0);
      for (const n of nibbles(xs)) counts[n]! += 1;
      return chiSquare(counts, uniform16);
    }

    test('identifiers spread uniformly over the /64 and each draw is independent of the last', async (t) => {
      const drawn = await iids('egress-1', SESSIONS);
      const u = uniformity(drawn);
      const s = serialChiSquare(
        drawn.map((x) => Number(x >> 62n)),
        [0.25, 0.25, 0.25, 0.25],
      );
      t.diagnostic(
        `${SESSIONS} sessions; uniformity p=${u.p.toFixed(3)}, serial p=${s.p.toFixed(3)}, ${new Set(drawn).size} distinct`,
      );
      assert.ok(u.p > ALPHA, `uniformity p=${u.p}`);
      assert.ok(s.p > ALPHA, `serial p=${s.p}`);
      // 2^64 identifiers: a repeat among a few hundred draws would mean a broken draw.
      assert.equal(new Set(drawn).size, SESSIONS);
    });

    test("a session's flows leave from its own draw of each family", async () => {
      for (let i = 0; i < 5; i++) {
        const s = await session('egress-1');
        try {
          const v6 = [await peer(s, target6, '::1'), await peer(s, target6, '::1')];
          const v4 = [await peer(s, target4, ADDR.target), await peer(s, target4, ADDR.target)];
          iid(v6[0]!);
          assert.equal(v6[0], v6[1]);
          assert.equal(v4[0], v4[1]);
          assert.match(v4[0]!, /^127\.10\.\d+\.\d+$/);
        } finally {
          s.close();
        }
      }
    });

    test('negative control: one address for every session fails the uniformity test', async () => {
      const drawn = await iids('egress-2', SESSIONS / 4);
      assert.equal(new Set(drawn).size, 1);
      assert.ok(uniformity(drawn).p < CONTROL_BAR);
    });
  });
}
