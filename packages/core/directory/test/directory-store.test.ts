import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import fc from 'fast-check';
import { DirectoryStore, signEntry, verifyDirectory, type SignedEntry } from '../src/index.ts';
import { NOW, entryFor, operator, pinOf } from './fixtures.ts';

const op = operator();
const sign = (overrides: Parameters<typeof entryFor>[1] = {}): SignedEntry =>
  signEntry(entryFor(op.kid, overrides), op.privateKey, op.kid);

test('a verified entry is kept and served back exactly as signed', () => {
  const store = new DirectoryStore();
  const signed = sign();
  assert.deepEqual(store.apply(signed, op.trusted, NOW), { accepted: true, changed: true });
  assert.equal(store.entries(NOW).get('edge-fra-1')?.endpoint, 'egress1.cdn.example:8443');
  const file = store.toFile(NOW);
  assert.deepEqual(file, { v: 1, entries: [signed] });
  // A client verifies the served file itself, from its JSON.
  const verified = verifyDirectory(JSON.parse(JSON.stringify(file)), op.trusted, NOW);
  assert.deepEqual(verified.rejected, []);
  assert.deepEqual(verified.entries, store.entries(NOW));
  assert.ok(Object.isFrozen(store.signedEntries(NOW)[0]));
});

test('tampered, expired, early and unknown-key entries are rejected with their reason', () => {
  const store = new DirectoryStore();
  const good = sign();
  const bytes = Buffer.from(good.payload, 'base64url');
  bytes[bytes.indexOf('8443')] = '9'.charCodeAt(0);
  const stranger = operator();
  const cases: Array<[string, unknown, number]> = [
    ['bad-signature', { ...good, payload: bytes.toString('base64url') }, NOW],
    ['expired', good, NOW + 3600],
    ['not-yet-valid', sign({ notBefore: NOW + 10 }), NOW],
    ['unknown-key', signEntry(entryFor(stranger.kid), stranger.privateKey, stranger.kid), NOW],
    ['malformed', { payload: good.payload, sig: good.sig }, NOW],
    ['malformed', 'not an entry', NOW],
  ];
  for (const [reason, signed, now] of cases) {
    const result = store.apply(signed, op.trusted, now);
    assert.equal(result.accepted, false, reason);
    assert.equal(!result.accepted && result.reason, reason);
  }
  assert.equal(store.entries(NOW).size, 0);
  assert.equal(store.validUntil(NOW), undefined);
});

test('a bad trusted key is a configuration error, not a rejection', () => {
  assert.throws(() => new DirectoryStore().apply(sign(), { x: 'not a key' }, NOW), TypeError);
});

test('the highest version wins; older versions and replays are refused', () => {
  const store = new DirectoryStore();
  const v1 = sign({ version: 1 });
  const v2 = sign({ version: 2, tlsPins: [pinOf('a'), pinOf('b')] });
  assert.equal(store.apply(v1, op.trusted, NOW).accepted, true);
  assert.deepEqual(store.apply(v2, op.trusted, NOW), { accepted: true, changed: true });
  const stale = store.apply(v1, op.trusted, NOW);
  assert.equal(!stale.accepted && stale.reason, 'stale-version');
  assert.deepEqual(store.apply(v2, op.trusted, NOW), { accepted: true, changed: false });
  assert.equal(store.entries(NOW).get('edge-fra-1')?.version, 2);
  assert.deepEqual(store.signedEntries(NOW), [v2]);
});

test('an expired entry drops out of reads but stays the version floor', () => {
  const store = new DirectoryStore();
  store.apply(sign({ version: 5, notAfter: NOW + 10 }), op.trusted, NOW);
  assert.equal(store.entries(NOW + 9).size, 1);
  assert.equal(store.entries(NOW + 10).size, 0);
  assert.deepEqual(store.toFile(NOW + 10).entries, []);
  const older = store.apply(sign({ version: 4, notAfter: NOW + 3600 }), op.trusted, NOW + 10);
  assert.equal(!older.accepted && older.reason, 'stale-version');
  assert.equal(store.versionOf('edge-fra-1'), 5);
  assert.equal(store.apply(sign({ version: 6 }), op.trusted, NOW + 10).accepted, true);
});

test('an entry whose id differs from its subject is refused', () => {
  const result = new DirectoryStore().apply(sign(), op.trusted, NOW, 'edge-ams-1');
  assert.equal(!result.accepted && result.reason, 'id-mismatch');
  assert.equal(new DirectoryStore().apply(sign(), op.trusted, NOW, 'edge-fra-1').accepted, true);
});

test('validUntil is the earliest notAfter among current entries', () => {
  const store = new DirectoryStore();
  store.apply(sign({ id: 'a', notAfter: NOW + 100 }), op.trusted, NOW);
  store.apply(sign({ id: 'b', notAfter: NOW + 50 }), op.trusted, NOW);
  store.apply(sign({ id: 'c', notAfter: NOW + 200 }), op.trusted, NOW);
  assert.equal(store.validUntil(NOW), NOW + 50);
  assert.equal(store.validUntil(NOW + 50), NOW + 100);
  assert.equal(store.validUntil(NOW + 200), undefined);
  assert.deepEqual([...store.entries(NOW).keys()], ['a', 'b', 'c']);
});

test('the result does not depend on the order entries arrive in (fast-check)', () => {
  const pool = [1, 2, 3].flatMap((version) =>
    ['edge-a', 'edge-b'].flatMap((id) =>
      ['x', 'y'].map((pin) => sign({ id, version, tlsPins: [pinOf(`${id}${version}${pin}`)] })),
    ),
  );
  const reference = new DirectoryStore();
  for (const s of pool) reference.apply(s, op.trusted, NOW);
  fc.assert(
    fc.property(fc.shuffledSubarray(pool, { minLength: pool.length }), (order) => {
      const store = new DirectoryStore();
      for (const s of order) store.apply(s, op.trusted, NOW);
      assert.deepEqual(store.toFile(NOW), reference.toFile(NOW));
    }),
    { numRuns: 50 },
  );
  // And it is the same one verifyDirectory picks from a file of all of them.
  assert.deepEqual(
    verifyDirectory({ v: 1, entries: pool }, op.trusted, NOW).entries,
    reference.entries(NOW),
  );
});
