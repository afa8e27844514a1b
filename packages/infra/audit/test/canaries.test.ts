import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { CANARY_PORT_RANGE, CANARY_ZONE, generateCanaries } from '../src/index.ts';

/** A deterministic rng from a seed (fast-check drives the seed). */
const seeded = (seed: number) => {
  let x = seed >>> 0 || 1;
  return (n: number): Uint8Array =>
    Uint8Array.from({ length: n }, () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x & 0xff;
    });
};
const candidates = Array.from({ length: 12 }, (_, i) => `203.0.113.${i + 3}`);

test('every run gets distinct canaries in their ranges, under the canary zone', () => {
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const c = generateCanaries({
        rng: seeded(seed),
        targetV4Candidates: candidates,
        targetV6Prefix: '2001:db8:0:6:',
      });
      assert.match(c.tag, /^[0-9a-f]{8}$/);
      for (const name of [c.targetName, c.dnsQuestion]) {
        assert.ok(name.endsWith(`.${CANARY_ZONE}`));
        assert.ok(name.includes(c.tag));
        assert.match(name, /^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
      }
      assert.notEqual(c.targetName, c.dnsQuestion);
      const ports = [c.httpsPort, c.udpPort, c.dnsPort];
      assert.equal(new Set(ports).size, 3);
      for (const p of ports) assert.ok(p >= CANARY_PORT_RANGE.min && p <= CANARY_PORT_RANGE.max);
      assert.ok(candidates.includes(c.targetV4));
      assert.ok(c.targetV6 && isIPv6(c.targetV6) && c.targetV6.startsWith('2001:db8:0:6:'));
      assert.doesNotMatch(c.targetV6, /^2001:db8:0:6::?[12]?$/);
      const payloads = [c.path, c.headerValue, c.postBody, c.page, c.bulkMarker, c.udpPayload];
      assert.equal(new Set(payloads).size, payloads.length);
      for (const p of payloads) assert.ok(p.includes(c.tag));
    }),
  );
});

test('two runs never share a canary', () => {
  const a = generateCanaries({ rng: seeded(1), targetV4Candidates: candidates });
  const b = generateCanaries({ rng: seeded(2), targetV4Candidates: candidates });
  for (const k of [
    'tag',
    'targetName',
    'dnsQuestion',
    'path',
    'page',
    'bulkMarker',
    'udpPayload',
  ] as const)
    assert.notEqual(a[k], b[k]);
});

test('ports a deployment refuses are redrawn; a fixed DNS port and zone are kept; no port left fails', () => {
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const c = generateCanaries({
        rng: seeded(seed),
        targetV4Candidates: candidates,
        avoidPorts: (p) => p % 2 === 0,
      });
      for (const p of [c.httpsPort, c.udpPort, c.dnsPort]) assert.equal(p % 2, 1);
    }),
  );
  const live = generateCanaries({
    rng: seeded(3),
    targetV4Candidates: ['192.0.2.9'],
    zone: 'Canary.Example.',
    dnsPort: 53,
  });
  assert.equal(live.dnsPort, 53);
  assert.ok(live.targetName.endsWith('.canary.example'));
  assert.equal(live.targetV6, undefined);
  assert.throws(
    () =>
      generateCanaries({ rng: seeded(4), targetV4Candidates: candidates, avoidPorts: () => true }),
    RangeError,
  );
  assert.throws(() => generateCanaries({ rng: seeded(4), targetV4Candidates: [] }), RangeError);
});
