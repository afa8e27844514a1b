/**
 * The demo file attester: a Bearer credential is matched by its SHA-256 against every record
 * without an early exit; unknown, empty and malformed credentials are refused; the file is
 * re-read on reload, and a bad file leaves the previous records in force.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  FileAttester,
  bearerCredential,
  credentialSha256,
  matchCredential,
  type HeldCredential,
} from '../src/attester.ts';

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

async function withFile(records: unknown, body: (file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'attester-'));
  try {
    const file = join(dir, 'subscribers.json');
    await writeFile(file, JSON.stringify(records));
    await body(file);
  } finally {
    await rm(dir, { recursive: true });
  }
}

test('bearerCredential takes exactly one RFC 6750 b64token', () => {
  assert.equal(bearerCredential('Bearer abc-123'), 'abc-123');
  assert.equal(bearerCredential('bearer  abc.DEF~+/=='), 'abc.DEF~+/==');
  for (const bad of [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Basic YWxhZGRpbjpvcGVu',
    'Bearer a b',
    'Bearerabc',
    'Bearer ä',
    `Bearer ${'a'.repeat(5000)}`,
  ]) {
    assert.equal(bearerCredential(bad), undefined, String(bad));
  }
});

test('matchCredential compares every record, wherever the match is or if there is none', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: -1, max: 19 }), (n, at) => {
      const records: HeldCredential[] = Array.from({ length: n }, (_, i) => ({
        hash: sha(`cred-${i}`),
        subscriber: `sub-${i}`,
      }));
      const target = at >= 0 && at < n ? sha(`cred-${at}`) : sha('nobody');
      let compared = 0;
      const found = matchCredential(records, target, (a, b) => {
        compared++;
        return timingSafeEqual(a, b);
      });
      assert.equal(compared, n);
      assert.equal(found, at >= 0 && at < n ? `sub-${at}` : undefined);
    }),
  );
});

test('the file attester admits known credentials and refuses everything else', async () => {
  await withFile(
    [
      { subscriber: 'alice', credentialSha256: credentialSha256('alice-secret') },
      { subscriber: 'bob', credentialSha256: credentialSha256('bob-secret') },
    ],
    async (file) => {
      const attester = new FileAttester(file);
      assert.equal(attester.size, 2);
      assert.deepEqual(await attester.attest('Bearer alice-secret'), { subscriber: 'alice' });
      assert.deepEqual(await attester.attest('Bearer bob-secret'), { subscriber: 'bob' });
      for (const bad of [
        undefined,
        '',
        'Bearer ',
        'Bearer alice',
        'Bearer alice-secret2',
        'Basic alice-secret',
        `Bearer ${credentialSha256('alice-secret')}`,
      ]) {
        assert.equal(await attester.attest(bad), undefined, String(bad));
      }
    },
  );
});

test('reload re-reads the file; a bad file keeps the previous records', async () => {
  await withFile(
    [{ subscriber: 'alice', credentialSha256: credentialSha256('a1') }],
    async (file) => {
      const attester = new FileAttester(file);
      await writeFile(
        file,
        JSON.stringify([{ subscriber: 'alice', credentialSha256: credentialSha256('a2') }]),
      );
      attester.reload();
      assert.equal(await attester.attest('Bearer a1'), undefined);
      assert.deepEqual(await attester.attest('Bearer a2'), { subscriber: 'alice' });
      for (const broken of [
        '{not json "secret"',
        JSON.stringify([{ subscriber: 'x', credentialSha256: 'ABC' }]),
        JSON.stringify([{ subscriber: 'has space', credentialSha256: credentialSha256('z') }]),
        JSON.stringify([{ subscriber: 'x', credentialSha256: credentialSha256('z'), extra: 1 }]),
        JSON.stringify([
          { subscriber: 'x', credentialSha256: credentialSha256('z') },
          { subscriber: 'y', credentialSha256: credentialSha256('z') },
        ]),
      ]) {
        await writeFile(file, broken);
        assert.throws(
          () => attester.reload(),
          (err: Error) => {
            assert.match(err.message, /attester file/);
            // The parse error must not quote the file (it holds credentials' hashes).
            assert.doesNotMatch(err.message, /secret/);
            return true;
          },
        );
        assert.deepEqual(await attester.attest('Bearer a2'), { subscriber: 'alice' });
      }
    },
  );
});

test('a missing file is an error at construction', () => {
  assert.throws(() => new FileAttester('/nonexistent/subscribers.json'), /ENOENT/);
});
