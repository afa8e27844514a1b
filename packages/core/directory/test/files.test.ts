import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import {
  DirectoryError,
  claimedEntryId,
  directoryFile,
  generateOperatorKey,
  loadDirectoryFile,
  readSignedEntries,
  readTrustedKeys,
  signEntry,
  writeDirectoryFile,
} from '../src/index.ts';

const pin = Buffer.alloc(32, 7).toString('base64');

test('reads keys and a signed file, keeping the good entries and naming the bad', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dirsrc-'));
  try {
    const trusted = generateOperatorKey();
    const stranger = generateOperatorKey();
    await writeFile(join(dir, 'op.pub'), trusted.publicKeyPem);
    const entry = (id: string, kid: string) => ({
      v: 1 as const,
      id,
      operator: kid,
      endpoint: '127.0.3.1:8443',
      region: 'eu',
      tlsPins: [pin],
      notBefore: 100,
      notAfter: 200,
      version: 1,
    });
    const file = directoryFile([
      signEntry(entry('good', trusted.kid), createPrivateKey(trusted.privateKeyPem), trusted.kid),
      signEntry(
        entry('forged', stranger.kid),
        createPrivateKey(stranger.privateKeyPem),
        stranger.kid,
      ),
    ]);
    await writeFile(join(dir, 'directory.json'), JSON.stringify(file));
    const keys = readTrustedKeys([{ publicKey: join(dir, 'op.pub') }]);
    assert.deepEqual(Object.keys(keys), [trusted.kid]);
    const verified = loadDirectoryFile(join(dir, 'directory.json'), keys, 150);
    assert.deepEqual([...verified.entries.keys()], ['good']);
    assert.equal(verified.rejected[0]?.code, 'unknown-key');
    assert.equal(
      loadDirectoryFile(join(dir, 'directory.json'), keys, 250).entries.size,
      0,
      'expired entries are dropped',
    );
    await writeFile(join(dir, 'broken.json'), '{');
    assert.throws(() => loadDirectoryFile(join(dir, 'broken.json'), keys, 150), DirectoryError);
    assert.throws(() => loadDirectoryFile(join(dir, 'missing.json'), keys, 150), DirectoryError);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('readSignedEntries returns the entries as written, and refuses what is not a directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dirsrc-'));
  try {
    await writeFile(
      join(dir, 'd.json'),
      JSON.stringify({ v: 1, entries: [{ payload: 'x', sig: 'y', kid: 'z' }] }),
    );
    assert.deepEqual(readSignedEntries(join(dir, 'd.json')), [
      { payload: 'x', sig: 'y', kid: 'z' },
    ]);
    await writeFile(join(dir, 'not.json'), JSON.stringify({ v: 1 }));
    assert.throws(() => readSignedEntries(join(dir, 'not.json')), DirectoryError);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('claimedEntryId reads the id without trusting it, and never throws', () => {
  const op = generateOperatorKey();
  const signed = signEntry(
    {
      v: 1,
      id: 'egress-7',
      operator: op.kid,
      endpoint: '127.0.3.1:1',
      region: 'eu',
      tlsPins: [pin],
      notBefore: 0,
      notAfter: 10,
      version: 1,
    },
    createPrivateKey(op.privateKeyPem),
    op.kid,
  );
  assert.equal(claimedEntryId(signed), 'egress-7');
  for (const junk of [
    null,
    7,
    {},
    { payload: '!!!' },
    { payload: Buffer.from('[1]').toString('base64url') },
  ]) {
    assert.equal(claimedEntryId(junk), undefined);
  }
});

test('a reader never sees half a directory file while it is rewritten', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dirsrc-'));
  const path = join(dir, 'directory.json');
  try {
    // Large enough that a plain write takes several syscalls; a reader thread polls meanwhile.
    const entries = Array.from({ length: 2000 }, (_, i) => ({ payload: 'x'.repeat(200), i }));
    const file = { v: 1, entries } as unknown as Parameters<typeof writeDirectoryFile>[1];
    writeDirectoryFile(path, file);
    const reader = new Worker(
      `const { readFileSync } = require('node:fs');
       const { parentPort, workerData } = require('node:worker_threads');
       let reads = 0, torn = 0, stop = false;
       parentPort.on('message', () => { stop = true; });
       (function loop() {
         for (let i = 0; i < 20; i++) {
           try { JSON.parse(readFileSync(workerData, 'utf8')); } catch { torn++; }
           reads++;
         }
         if (stop) parentPort.postMessage({ reads, torn }); else setImmediate(loop);
       })();`,
      { eval: true, workerData: path },
    );
    for (let i = 0; i < 300; i++) writeDirectoryFile(path, file);
    const result = new Promise<{ reads: number; torn: number }>((resolve) =>
      reader.once('message', resolve),
    );
    reader.postMessage('stop');
    const { reads, torn } = await result;
    await reader.terminate();
    assert.ok(reads > 0);
    assert.equal(torn, 0, `${torn} of ${reads} reads saw a partial file`);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith('.tmp')),
      [],
      'no temporary file is left behind',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
