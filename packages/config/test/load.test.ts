import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, listenAddress, loadConfigFile, parseConfig, schemaReference } from '../src/index.ts';

const schema = z.strictObject({
  listen: listenAddress.describe('where to listen'),
  timeouts: z.strictObject({ idleMs: z.number().int().min(1).default(1000) }).default({ idleMs: 1000 }),
  names: z.array(z.string()).default([]),
});

test('valid config is parsed, defaulted and deep-frozen', () => {
  const cfg = parseConfig(schema, { listen: '127.0.0.1:0' });
  assert.equal(cfg.timeouts.idleMs, 1000);
  assert.ok(Object.isFrozen(cfg));
  assert.ok(Object.isFrozen(cfg.timeouts));
  assert.throws(() => {
    (cfg as { listen: string }).listen = 'x';
  }, TypeError);
});

test('every problem is reported at once, unknown keys included', () => {
  try {
    parseConfig(schema, { listen: 'nope', timeouts: { idleMs: -1, extra: 1 }, bogus: true }, 'test.json');
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 4, err.problems.join('\n'));
    assert.match(err.message, /test\.json/);
    assert.ok(err.problems.some((p) => p.includes('bogus')));
    assert.ok(err.problems.some((p) => p.startsWith('listen:')));
  }
});

test('listen addresses accept IPv6 in brackets and refuse a missing port', () => {
  assert.equal(listenAddress.safeParse('[::1]:443').success, true);
  assert.equal(listenAddress.safeParse('127.0.0.1').success, false);
  assert.equal(listenAddress.safeParse('127.0.0.1:70000').success, false);
});

test('files: unreadable and non-JSON are ConfigErrors naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
  try {
    await assert.rejects(loadConfigFile(schema, join(dir, 'missing.json')), ConfigError);
    await writeFile(join(dir, 'bad.json'), '{not json');
    await assert.rejects(loadConfigFile(schema, join(dir, 'bad.json')), /not valid JSON/);
    await writeFile(join(dir, 'ok.json'), JSON.stringify({ listen: '127.0.0.1:1' }));
    assert.equal((await loadConfigFile(schema, join(dir, 'ok.json'))).listen, '127.0.0.1:1');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('the reference lists every key with its description and default', () => {
  const md = schemaReference('Example', schema);
  assert.match(md, /\| `listen` \| string \| yes \|  \| where to listen \|/);
  assert.match(md, /\| `timeouts.idleMs` \| integer \|  \| `1000` \|/);
});
