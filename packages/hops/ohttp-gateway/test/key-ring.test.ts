import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeKeys } from '@splitrelay/ohttp';
import {
  EMPTY_RING,
  addKey,
  liveKeys,
  parseKeyRing,
  promoteKey,
  pruneKeys,
  publishedKeyIds,
  publishedKeys,
  readKeyRing,
  retireKey,
  retirements,
  writeKeyRing,
} from '../src/index.ts';

test('a rotation, step by step: add, promote, retire, prune', async () => {
  const first = await addKey(EMPTY_RING, 'x25519');
  assert.equal(first.keyId, 0);
  // 1. A new key is published after the current one: clients do not use it yet.
  const second = await addKey(first.ring, 'x25519');
  assert.equal(second.keyId, 1);
  assert.deepEqual(publishedKeyIds(second.ring), [0, 1]);
  // 2. Promoted: clients use it from their next directory; the gateway takes both.
  const promoted = promoteKey(second.ring, 1);
  assert.deepEqual(publishedKeyIds(promoted), [1, 0]);
  // 3. The old key retires: no longer published, accepted until its window ends.
  const retiring = retireKey(promoted, 0, 2000);
  assert.deepEqual(publishedKeyIds(retiring), [1]);
  assert.deepEqual([...retirements(retiring)], [[0, 2000]]);
  assert.deepEqual(
    liveKeys(retiring, 1999).map((k) => k.keyId),
    [1, 0],
  );
  assert.deepEqual(
    liveKeys(retiring, 2000).map((k) => k.keyId),
    [1],
  );
  // 4. Once the window is over, it goes.
  assert.deepEqual(pruneKeys(retiring, 1999).keys.length, 2);
  assert.deepEqual(
    pruneKeys(retiring, 2000).keys.map((k) => k.keyId),
    [1],
  );
});

test('the published list is application/ohttp-keys of the published keys, in order', async () => {
  let ring = (await addKey(EMPTY_RING, 'x25519', ['chacha20-poly1305'], 9)).ring;
  ring = (await addKey(ring, 'x-wing', ['aes-128-gcm', 'chacha20-poly1305'], 3)).ring;
  const { value } = decodeKeys(await publishedKeys(ring));
  assert.deepEqual(
    value.map((c) => [c.keyId, c.kemId, c.publicKey.length, c.symmetric.map((s) => s.aeadId)]),
    [
      [9, 0x0020, 32, [3]],
      [3, 0x647a, 1216, [1, 3]],
    ],
  );
  await assert.rejects(publishedKeys(EMPTY_RING), /no published key/);
});

test('operator mistakes are refused with a reason', async () => {
  const { ring } = await addKey(EMPTY_RING, 'x25519');
  await assert.rejects(addKey(ring, 'x25519', undefined, 0), /already in the ring/);
  assert.throws(() => promoteKey(ring, 5), /no key 5/);
  assert.throws(() => retireKey(ring, 0, 10), /last published key/);
  const two = (await addKey(ring, 'x25519')).ring;
  assert.throws(() => promoteKey(retireKey(two, 0, 10), 0), /retiring/);
});

test('the schema: strict, every problem named', () => {
  assert.throws(() => parseKeyRing({ v: 2, keys: [] }), /v:/);
  assert.throws(
    () =>
      parseKeyRing({
        v: 1,
        keys: [
          { keyId: 1, kem: 'x25519', privateKey: 'A'.repeat(43), symmetric: ['aes-128-gcm'] },
          { keyId: 1, kem: 'p-256', privateKey: 'short', symmetric: [], extra: 1 },
        ],
      }),
    (err: Error) =>
      /keys\.1\.kem/.test(err.message) &&
      /keys\.1\.privateKey/.test(err.message) &&
      /keys\.1\.symmetric/.test(err.message) &&
      /keys\.1: Unrecognized key/.test(err.message),
  );
  const key = { keyId: 1, kem: 'x25519', privateKey: 'A'.repeat(43), symmetric: ['aes-128-gcm'] };
  assert.throws(() => parseKeyRing({ v: 1, keys: [key, key] }), /repeat a key identifier/);
  fc.assert(
    fc.property(fc.anything(), (input) => {
      try {
        parseKeyRing(input);
      } catch (err) {
        assert.ok(err instanceof RangeError);
      }
    }),
  );
});

test('files: written readable by the owner only, read back the same', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ohttp-ring-'));
  try {
    const file = join(dir, 'keys.json');
    const { ring } = await addKey(EMPTY_RING, 'x-wing');
    writeKeyRing(file, ring);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readKeyRing(file), ring);
    assert.throws(() => readKeyRing(join(dir, 'missing.json')), /cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
