import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DirectoryError,
  directoryFile,
  signEntry,
  verifyDirectory,
  type SignedEntry,
} from '../src/index.ts';
import { NOW, entryFor, operator, rawSign } from './fixtures.ts';

const op = operator();
const trusted = { [op.kid]: op.publicKeyPem };

function signed(overrides: Parameters<typeof entryFor>[1]): SignedEntry {
  return signEntry(entryFor(op.kid, overrides), op.privateKey, op.kid);
}

test('one bad entry does not poison the others', () => {
  const stranger = operator();
  const good1 = signed({ id: 'a' });
  const good2 = signed({ id: 'b', endpoint: '127.0.0.3:9000' });
  const tampered = { ...signed({ id: 'c' }), sig: signed({ id: 'd' }).sig };
  const file = directoryFile([
    good1,
    tampered,
    signEntry(entryFor(stranger.kid, { id: 'e' }), stranger.privateKey, stranger.kid),
    signed({ id: 'f', notAfter: NOW }),
    signed({ id: 'g', notBefore: NOW + 1 }),
    rawSign(JSON.stringify(entryFor('someone-else', { id: 'h' })), op.privateKey, op.kid),
    { nonsense: true } as unknown as SignedEntry,
    good2,
  ]);
  const result = verifyDirectory(JSON.parse(JSON.stringify(file)), trusted, NOW);
  assert.deepEqual([...result.entries.keys()], ['a', 'b']);
  assert.equal(result.entries.get('b')?.endpoint, '127.0.0.3:9000');
  assert.deepEqual(
    result.rejected.map((r) => [r.index, r.code]),
    [
      [1, 'bad-signature'],
      [2, 'unknown-key'],
      [3, 'expired'],
      [4, 'not-yet-valid'],
      [5, 'operator-mismatch'],
      [6, 'malformed'],
    ],
  );
  assert.equal(result.rejected[0]?.reason, 'signature verification failed');
});

test('for one egress id the highest version wins, whatever the order', () => {
  const versions = [3, 1, 7, 2].map((version) =>
    signed({ version, endpoint: `127.0.0.${version}:443` }),
  );
  fc.assert(
    fc.property(fc.shuffledSubarray(versions, { minLength: 1 }), (subset) => {
      const result = verifyDirectory(directoryFile(subset), trusted, NOW);
      const best = Math.max(
        ...subset.map((s) => JSON.parse(Buffer.from(s.payload, 'base64url').toString()).version),
      );
      assert.equal(result.entries.get('edge-fra-1')?.version, best);
      assert.equal(result.rejected.length, 0);
    }),
  );
});

test('two different entries with the same version resolve the same way in any order', () => {
  const x = signed({ version: 5, region: 'x' });
  const y = signed({ version: 5, region: 'y' });
  const one = verifyDirectory(directoryFile([x, y]), trusted, NOW).entries.get('edge-fra-1');
  const two = verifyDirectory(directoryFile([y, x]), trusted, NOW).entries.get('edge-fra-1');
  assert.deepEqual(one, two);
});

test('a file that is not a directory is malformed as a whole', () => {
  for (const bad of [null, [], { v: 2, entries: [] }, { v: 1 }, { v: 1, entries: [], x: 1 }]) {
    assert.throws(
      () => verifyDirectory(bad, trusted, NOW),
      (err: unknown) => err instanceof DirectoryError && err.code === 'malformed',
    );
  }
  assert.equal(verifyDirectory({ v: 1, entries: [] }, trusted, NOW).entries.size, 0);
});

test('a bad trusted key fails the call instead of rejecting every entry', () => {
  assert.throws(() => verifyDirectory({ v: 1, entries: [] }, { k: 'nope' }, NOW), TypeError);
});
