import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Manifest,
  readManifest,
  readRegistryEntry,
  removeRegistryEntry,
  writeRegistryEntry,
} from '../src/manifest.ts';
import { isAlive, parseProcStat, self } from '../src/proc.ts';

test('the manifest reads back every whole line and skips a line cut short by a crash', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-manifest-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const m = new Manifest(dir);
  m.append({ t: 'netns', name: 'sra-000001-client', role: 'client' });
  m.append({ t: 'process', pid: 10, startTime: 99, role: 'client', name: 'client-sleep' });
  appendFileSync(m.path, '{"t":"netns","name":"sra-000001-ingr');
  assert.deepEqual(m.read(), [
    { t: 'netns', name: 'sra-000001-client', role: 'client' },
    { t: 'process', pid: 10, startTime: 99, role: 'client', name: 'client-sleep' },
  ]);
  assert.deepEqual(readManifest(join(dir, 'missing.jsonl')), []);
});

test('registry entries are written whole, read back and removed', (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'lab-registry-')), 'nested');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const entry = { id: 'sra-00000a', manifest: '/x/manifest.jsonl', owner: self() };
  writeRegistryEntry(dir, entry);
  assert.deepEqual(readRegistryEntry(dir, 'sra-00000a'), entry);
  assert.deepEqual(readdirSync(dir), ['sra-00000a.json'], 'no temporary file is left');
  removeRegistryEntry(dir, 'sra-00000a');
  assert.equal(readRegistryEntry(dir, 'sra-00000a'), undefined);
});

test('/proc/<pid>/stat: the name may hold spaces and parentheses', () => {
  const fields = 'S 1 77 77 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 100';
  assert.deepEqual(parseProcStat(`4242 (a) b (c)) ${fields}`), {
    pid: 4242,
    state: 'S',
    ppid: 1,
    pgid: 77,
    startTime: 123456,
  });
  assert.equal(parseProcStat('garbage'), undefined);
  assert.equal(parseProcStat('12 (x) S 1'), undefined);
});

test('a process identity is alive only while the same process runs', () => {
  const me = self();
  assert.ok(me.startTime !== undefined && me.startTime > 0);
  assert.ok(isAlive(me));
  assert.ok(
    !isAlive({ pid: me.pid, startTime: me.startTime! + 1 }),
    'a reused pid is another process',
  );
  assert.ok(!isAlive({ pid: 2 ** 22 + 1, startTime: undefined }));
});
