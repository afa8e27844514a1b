import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Entry } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import { chooseEgress } from '../src/index.ts';

const NOW = 1_800_000_000;

function entry(
  id: string,
  region: string,
  window: { notBefore?: number; notAfter?: number } = {},
  serves?: readonly string[],
): Entry {
  return {
    ...(serves ? { serves } : {}),
    v: 1,
    id,
    operator: 'cdn-1',
    endpoint: `${id}.example:443`,
    region,
    tlsPins: [`${'A'.repeat(43)}=`],
    notBefore: window.notBefore ?? NOW - 3600,
    notAfter: window.notAfter ?? NOW + 3600,
    version: 1,
  };
}

function directory(...entries: Entry[]): ReadonlyMap<string, Entry> {
  return new Map(entries.map((e) => [e.id, e]));
}

function assertUnknownEgress(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof RelayError && err.code === 'unknown-egress');
}

test('a preferred id is chosen over every other consideration', () => {
  const dir = directory(entry('a', 'eu'), entry('b', 'us'), entry('c', 'eu'));
  assert.equal(chooseEgress(dir, { egressId: 'c' }, NOW).id, 'c');
  // The user named it: neither a region preference nor an earlier failure overrides that.
  assert.equal(chooseEgress(dir, { egressId: 'b', region: 'eu' }, NOW).id, 'b');
  assert.equal(chooseEgress(dir, { egressId: 'b' }, NOW, new Set(['b'])).id, 'b');
});

test('an unknown preferred id is unknown-egress, and so is one whose entry is not valid now', () => {
  const dir = directory(entry('a', 'eu'), entry('old', 'eu', { notAfter: NOW - 1 }));
  assertUnknownEgress(() => chooseEgress(dir, { egressId: 'nope' }, NOW));
  assertUnknownEgress(() => chooseEgress(dir, { egressId: 'old' }, NOW));
  assert.throws(
    () => chooseEgress(dir, { egressId: 'nope' }, NOW),
    (err: unknown) => err instanceof RelayError && err.status === 403 && !err.retryable,
  );
});

test('the preferred region wins; other regions serve only when it has no valid egress', () => {
  const dir = directory(entry('a', 'us'), entry('b', 'eu'), entry('c', 'eu'));
  assert.equal(chooseEgress(dir, { region: 'eu' }, NOW).id, 'b');
  assert.equal(chooseEgress(dir, { region: 'us' }, NOW).id, 'a');
  assert.equal(chooseEgress(dir, { region: 'ap' }, NOW).id, 'a');
  const euExpired = directory(entry('a', 'us'), entry('b', 'eu', { notAfter: NOW }));
  assert.equal(chooseEgress(euExpired, { region: 'eu' }, NOW).id, 'a');
});

test('without a preference the choice is the lowest id, whatever the map order', () => {
  const dir = directory(entry('zulu', 'eu'), entry('alpha', 'us'), entry('mike', 'eu'));
  assert.equal(chooseEgress(dir, {}, NOW).id, 'alpha');
});

test('entries outside their validity window are skipped (notBefore inclusive, notAfter exclusive)', () => {
  const dir = directory(
    entry('a-expired', 'eu', { notBefore: NOW - 100, notAfter: NOW }),
    entry('b-future', 'eu', { notBefore: NOW + 1, notAfter: NOW + 100 }),
    entry('c-starts-now', 'eu', { notBefore: NOW, notAfter: NOW + 1 }),
  );
  assert.equal(chooseEgress(dir, {}, NOW).id, 'c-starts-now');
  assert.equal(chooseEgress(dir, {}, NOW + 1).id, 'b-future');
  assertUnknownEgress(() => chooseEgress(dir, {}, NOW + 100));
  assertUnknownEgress(() => chooseEgress(directory(), {}, NOW));
});

test('avoided egresses are passed over, and used again when nothing else is valid', () => {
  const dir = directory(entry('a', 'eu'), entry('b', 'eu'), entry('c', 'us'));
  assert.equal(chooseEgress(dir, {}, NOW, new Set(['a'])).id, 'b');
  // Avoiding a failed egress outranks the region preference...
  assert.equal(chooseEgress(dir, { region: 'eu' }, NOW, new Set(['a', 'b'])).id, 'c');
  // ...and when every valid egress failed, a retry still has somewhere to go.
  assert.equal(chooseEgress(dir, { region: 'eu' }, NOW, new Set(['a', 'b', 'c'])).id, 'a');
  assert.equal(chooseEgress(dir, {}, NOW, new Set(['a', 'b', 'c'])).id, 'a');
});

test('within a region, egresses serving the client country come first, then healthy ones', () => {
  const dir = directory(
    entry('a', 'eu', {}, ['FR', 'FR-IDF']),
    entry('b', 'eu', {}, ['DE', 'DE-BY']),
    entry('c', 'eu', {}, ['DE']),
    entry('d', 'us', {}, ['DE', 'US']),
    entry('e', 'eu'),
  );
  // A subdivision of the country counts as serving it.
  assert.equal(chooseEgress(dir, { region: 'eu', country: 'DE' }, NOW).id, 'b');
  assert.equal(chooseEgress(dir, { region: 'eu', country: 'de' }, NOW).id, 'b');
  assert.equal(chooseEgress(dir, { region: 'eu', country: 'FR' }, NOW).id, 'a');
  // The region comes first: an egress of the right country in another region waits.
  assert.equal(chooseEgress(dir, { region: 'eu', country: 'US' }, NOW).id, 'a');
  assert.equal(chooseEgress(dir, { country: 'US' }, NOW).id, 'd');
  // Reported up beats unknown health among equals; down and draining are passed over.
  const health = new Map([
    ['b', 'unknown'],
    ['c', 'up'],
    ['a', 'down'],
  ]);
  assert.equal(chooseEgress(dir, { region: 'eu', country: 'DE' }, NOW, new Set(), health).id, 'c');
  assert.equal(chooseEgress(dir, { region: 'eu', country: 'FR' }, NOW, new Set(), health).id, 'c');
});

test('failover stays within the region, then within the country, before leaving either', () => {
  const dir = directory(
    entry('a', 'eu', {}, ['DE']),
    entry('b', 'eu', {}, ['DE']),
    entry('c', 'eu', {}, ['FR']),
    entry('d', 'us', {}, ['DE']),
  );
  const pref = { region: 'eu', country: 'DE' };
  const order: string[] = [];
  const failed = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const chosen = chooseEgress(dir, pref, NOW, failed).id;
    order.push(chosen);
    failed.add(chosen);
  }
  assert.deepEqual(order, ['a', 'b', 'c', 'd']);
  // Draining and down egresses are avoided like failed ones, and used when nothing else is left.
  const health = new Map([
    ['a', 'draining'],
    ['b', 'down'],
    ['c', 'down'],
    ['d', 'down'],
  ]);
  assert.equal(chooseEgress(dir, pref, NOW, new Set(), health).id, 'a');
  assert.equal(chooseEgress(dir, pref, NOW, new Set(), new Map([['a', 'draining']])).id, 'b');
});

test('property: the choice is valid now, avoids what it can, and honours the region', () => {
  const arbEntry = fc.record({
    id: fc.stringMatching(/^[a-z]{1,3}$/),
    region: fc.constantFrom('eu', 'us', 'ap'),
    notBefore: fc.integer({ min: NOW - 10, max: NOW + 10 }),
    length: fc.integer({ min: 1, max: 20 }),
    serves: fc.option(fc.subarray(['DE', 'DE-BY', 'FR', 'US'], { minLength: 1 }), {
      nil: undefined,
    }),
    health: fc.constantFrom('up', 'down', 'draining', 'unknown', undefined),
  });
  fc.assert(
    fc.property(
      fc.array(arbEntry, { maxLength: 8 }),
      fc.option(fc.constantFrom('eu', 'us', 'ap', 'none'), { nil: undefined }),
      fc.array(fc.stringMatching(/^[a-z]{1,3}$/), { maxLength: 4 }),
      fc.option(fc.constantFrom('DE', 'FR', 'US', 'NL'), { nil: undefined }),
      (raw, region, avoidList, country) => {
        const dir = directory(
          ...raw.map((r) =>
            entry(
              r.id,
              r.region,
              { notBefore: r.notBefore, notAfter: r.notBefore + r.length },
              r.serves,
            ),
          ),
        );
        const health = new Map<string, string>();
        for (const r of raw) if (r.health !== undefined) health.set(r.id, r.health);
        const avoid = new Set(avoidList);
        const valid = [...dir.values()].filter((e) => e.notBefore <= NOW && NOW < e.notAfter);
        const preference = {
          ...(region === undefined ? {} : { region }),
          ...(country === undefined ? {} : { country }),
        };
        if (valid.length === 0) {
          assertUnknownEgress(() => chooseEgress(dir, preference, NOW, avoid, health));
          return;
        }
        const chosen = chooseEgress(dir, preference, NOW, avoid, health);
        assert.ok(valid.includes(chosen));
        const bad = (id: string) =>
          avoid.has(id) || health.get(id) === 'down' || health.get(id) === 'draining';
        const usable = valid.filter((e) => !bad(e.id));
        if (usable.length > 0) assert.ok(!bad(chosen.id));
        let pool = usable.length > 0 ? usable : valid;
        // Each rule narrows the field in turn; the choice is always in what is left.
        if (pool.some((e) => e.region === region)) {
          assert.equal(chosen.region, region);
          pool = pool.filter((e) => e.region === region);
        }
        const serves = (e: Entry) =>
          country !== undefined && (e.serves ?? []).some((c) => c.split('-')[0] === country);
        if (pool.some(serves)) {
          assert.ok(serves(chosen), `${chosen.id} does not serve ${country}`);
          pool = pool.filter(serves);
        }
        if (pool.some((e) => health.get(e.id) === 'up')) {
          assert.equal(health.get(chosen.id), 'up');
          pool = pool.filter((e) => health.get(e.id) === 'up');
        }
        assert.equal(chosen.id, pool.map((e) => e.id).sort((a, b) => a.localeCompare(b))[0]);
      },
    ),
  );
});
