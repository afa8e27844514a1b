import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrawCounters, openSessionSource, parseAddressPools, readHint } from '../src/index.ts';
import { sampleConfig, seededRng } from './fixtures.ts';

const pools = (() => {
  const r = parseAddressPools(sampleConfig());
  assert.ok(r.ok);
  return r.pools;
})();

test("a session's flows all leave from the address drawn when it opened", () => {
  const rng = seededRng('session');
  const session = openSessionSource({
    pools,
    rng,
    hint: { kind: 'region', country: 'DE', subdivision: 'DE-BE' },
  });
  assert.equal(session.region.id, 'de-berlin');
  const first = session.sourceFor(4);
  assert.ok(first !== undefined && first.address.startsWith('203.0.113.'));
  // However many flows follow, and whatever else draws meanwhile, the answer is the same.
  for (let i = 0; i < 100; i++) {
    openSessionSource({ pools, rng });
    assert.equal(session.sourceFor(4), first);
  }
  assert.ok(session.sourceFor(6)?.address.startsWith('2001:db8:be:'));
  // Paris has no IPv6 pool: the shell decides what an IPv6 flow does there.
  assert.equal(
    openSessionSource({ pools, rng, hint: { kind: 'region', country: 'FR' } }).sourceFor(6),
    undefined,
  );
});

test('counters count sessions and draws per region and how hints matched, and nothing per flow', () => {
  const counters = new DrawCounters();
  const rng = seededRng('counters');
  const reading = readHint({ 'sec-ch-geohash': 'not a string' }, pools.hintPrecision);
  const s = openSessionSource({
    pools,
    rng,
    counters,
    hint: reading.hint,
    invalidHint: reading.invalid,
  });
  for (let i = 0; i < 10; i++) s.sourceFor(4); // flows: not counted
  openSessionSource({ pools, rng, counters, hint: { kind: 'region', country: 'FR' } });
  openSessionSource({ pools, rng, counters, hint: { kind: 'geohash', geohash: 'u281z' } });
  assert.deepEqual(counters.snapshot(), {
    sessions: 3,
    byRegion: {
      de: { ipv4: 1, ipv6: 1 },
      'fr-paris': { ipv4: 1, ipv6: 0 },
      'de-munich': { ipv4: 1, ipv6: 1 },
    },
    matchedBy: { geohash: 1, subdivision: 0, country: 1, default: 1 },
    invalidHints: 1,
  });
  // A snapshot holds counts only: no address, no hint, no per-session record.
  assert.doesNotMatch(JSON.stringify(counters.snapshot()), /203\.|198\.|2001:|u281/);
});
