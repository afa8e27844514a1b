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
): Entry {
  return {
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

test('property: the choice is valid now, avoids what it can, and honours the region', () => {
  const arbEntry = fc.record({
    id: fc.stringMatching(/^[a-z]{1,3}$/),
    region: fc.constantFrom('eu', 'us', 'ap'),
    notBefore: fc.integer({ min: NOW - 10, max: NOW + 10 }),
    length: fc.integer({ min: 1, max: 20 }),
  });
  fc.assert(
    fc.property(
      fc.array(arbEntry, { maxLength: 8 }),
      fc.option(fc.constantFrom('eu', 'us', 'ap', 'none'), { nil: undefined }),
      fc.array(fc.stringMatching(/^[a-z]{1,3}$/), { maxLength: 4 }),
      (raw, region, avoidList) => {
        const dir = directory(
          ...raw.map((r) =>
            entry(r.id, r.region, { notBefore: r.notBefore, notAfter: r.notBefore + r.length }),
          ),
        );
        const avoid = new Set(avoidList);
        const valid = [...dir.values()].filter((e) => e.notBefore <= NOW && NOW < e.notAfter);
        const preference = region === undefined ? {} : { region };
        if (valid.length === 0) {
          assertUnknownEgress(() => chooseEgress(dir, preference, NOW, avoid));
          return;
        }
        const chosen = chooseEgress(dir, preference, NOW, avoid);
        assert.ok(valid.includes(chosen));
        const usable = valid.filter((e) => !avoid.has(e.id));
        if (usable.length > 0) assert.ok(!avoid.has(chosen.id));
        const pool = usable.length > 0 ? usable : valid;
        if (pool.some((e) => e.region === region)) assert.equal(chosen.region, region);
      },
    ),
  );
});
