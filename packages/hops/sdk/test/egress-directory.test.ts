/**
 * The client verifies the directory itself: whatever the ingress (or a file) hands it,
 * tampered, expired and foreign-signed entries are refused and never used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  directoryFile,
  generateOperatorKey,
  signEntry,
  writeDirectoryFile,
} from '@splitrelay/directory';
import { EgressDirectory } from '../src/egress-directory.ts';

const operator = generateOperatorKey();
const stranger = generateOperatorKey();
const pin = Buffer.alloc(32, 9).toString('base64');
const now = Math.floor(Date.now() / 1000);

const entry = (id: string, notAfter: number, kid: string) => ({
  v: 1 as const,
  id,
  operator: kid,
  endpoint: '127.0.3.1:8443',
  region: 'eu',
  tlsPins: [pin],
  notBefore: now - 60,
  notAfter,
  version: 1,
});

test('only genuine, current entries are kept', () => {
  const good = signEntry(
    entry('egress-1', now + 3600, operator.kid),
    createPrivateKey(operator.privateKeyPem),
    operator.kid,
  );
  const tamperedPayload = Buffer.from(
    JSON.stringify({ ...entry('egress-1', now + 3600, operator.kid), endpoint: '127.0.9.9:1' }),
  ).toString('base64url');
  const tampered = { ...good, payload: tamperedPayload };
  const expired = signEntry(
    entry('egress-2', now - 1, operator.kid),
    createPrivateKey(operator.privateKeyPem),
    operator.kid,
  );
  const foreign = signEntry(
    entry('egress-3', now + 3600, stranger.kid),
    createPrivateKey(stranger.privateKeyPem),
    stranger.kid,
  );

  const directory = new EgressDirectory({
    operatorKeys: { [operator.kid]: operator.publicKeyPem },
    source: { file: '/nonexistent' },
  });
  assert.equal(
    directory.apply({ v: 1, entries: [tampered, expired, foreign] }),
    3,
    'three refused',
  );
  assert.equal(directory.entries().size, 0);
  assert.equal(directory.apply({ v: 1, entries: [good] }), 0);
  assert.deepEqual([...directory.entries().keys()], ['egress-1']);
  assert.equal(directory.entries().get('egress-1')?.endpoint, '127.0.3.1:8443');
  assert.equal(directory.apply('not a directory'), 0);
  assert.equal(directory.entries().size, 1, 'garbage changes nothing');
});

test('refreshing from a file keeps the last verified state when the file goes bad', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-egress-dir-'));
  const path = join(dir, 'directory.json');
  const good = signEntry(
    entry('egress-1', now + 3600, operator.kid),
    createPrivateKey(operator.privateKeyPem),
    operator.kid,
  );
  writeDirectoryFile(path, directoryFile([good]));
  const problems: { refused?: number; reason?: string }[] = [];
  const directory = new EgressDirectory({
    operatorKeys: { [operator.kid]: operator.publicKeyPem },
    source: { file: path },
    onProblem: (p) => problems.push(p),
  });
  try {
    await directory.start();
    assert.deepEqual([...directory.entries().keys()], ['egress-1']);
    await writeFile(path, 'not json');
    await assert.rejects(directory.refresh());
    assert.deepEqual([...directory.entries().keys()], ['egress-1'], 'fail static');
    assert.deepEqual(problems, []);
  } finally {
    directory.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('entries stop being used once they expire, whatever the source says', () => {
  let clock = now * 1000;
  const directory = new EgressDirectory({
    operatorKeys: { [operator.kid]: operator.publicKeyPem },
    source: { file: '/nonexistent' },
    now: () => clock,
  });
  const shortLived = signEntry(
    entry('egress-1', now + 10, operator.kid),
    createPrivateKey(operator.privateKeyPem),
    operator.kid,
  );
  assert.equal(directory.apply({ v: 1, entries: [shortLived] }), 0);
  assert.equal(directory.entries().size, 1);
  clock += 11_000;
  assert.equal(directory.entries().size, 0);
});
