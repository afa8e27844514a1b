/**
 * The root lint config names core packages, not core files, so this package checks its own
 * line: the cores import no I/O, timers or NATS; only nats.ts imports the NATS client.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';

const SRC = new URL('../src/', import.meta.url);
const SHELLS = new Set(['nats.ts', 'heartbeat.ts', 'index.ts']);
const IO = [
  'node:net',
  'node:dgram',
  'node:tls',
  'node:http',
  'node:http2',
  'node:https',
  'node:dns',
  'node:timers',
  'node:timers/promises',
  'node:fs',
  'node:child_process',
  'pino',
  '@nats-io/',
];

async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(new URL(file, SRC), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].map(
    (m) => m[1] ?? '',
  );
}

test('cores import no I/O, timers or NATS client', async () => {
  const files = (await readdir(SRC)).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8);
  for (const file of files.filter((f) => !SHELLS.has(f))) {
    for (const spec of await importsOf(file)) {
      assert.ok(!IO.some((io) => spec === io || spec.startsWith(io)), `${file} imports ${spec}`);
    }
    const text = await readFile(new URL(file, SRC), 'utf8');
    assert.doesNotMatch(text, /\b(?:setTimeout|setInterval|Date\.now)\s*\(/, file);
  }
});

test('only nats.ts imports the NATS client', async () => {
  for (const file of (await readdir(SRC)).filter((f) => f.endsWith('.ts'))) {
    const nats = (await importsOf(file)).filter((s) => s.startsWith('@nats-io/'));
    assert.equal(nats.length > 0, file === 'nats.ts', file);
  }
});
