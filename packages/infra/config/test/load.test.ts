import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  listenAddress,
  isLoopbackAddress,
  relayId,
  dnsName,
  splitHostPort,
  loadConfigFile,
  parseConfig,
  schemaReference,
} from '../src/index.ts';

const schema = z.strictObject({
  listen: listenAddress.describe('where to listen'),
  timeouts: z
    .strictObject({ idleMs: z.number().int().min(1).default(1000) })
    .default({ idleMs: 1000 }),
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
    parseConfig(
      schema,
      { listen: 'nope', timeouts: { idleMs: -1, extra: 1 }, bogus: true },
      'test.json',
    );
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

test('listen addresses are read by the authority parser, port 0 allowed', () => {
  for (const ok of [
    '127.0.0.1:0',
    'localhost:8443',
    '[::1]:0',
    '0.0.0.0:443',
    'Relay.Example.:1',
  ]) {
    assert.equal(listenAddress.safeParse(ok).success, true, ok);
  }
  // Each of these once passed a looser check of its own: an empty or padded port, a host the
  // rest of the relay refuses, an IPv6 literal that is none.
  for (const bad of [
    '127.0.0.1:',
    '127.0.0.1:0443',
    '-foo-:80',
    '1.2.3:80',
    '[1:2]:80',
    'a..b:1',
  ]) {
    assert.equal(listenAddress.safeParse(bad).success, false, bad);
  }
  assert.deepEqual(splitHostPort('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(splitHostPort('LOCALHOST.:1080'), { host: 'localhost', port: 1080 });
});

test('loopback listen addresses: 127/8, ::1 and localhost in any spelling', () => {
  for (const ok of ['127.0.0.1:1080', '127.9.9.9:0', '[::1]:1', '[0::1]:1', 'LOCALHOST:1']) {
    assert.equal(isLoopbackAddress(ok), true, ok);
  }
  for (const bad of ['0.0.0.0:1080', '[::]:1', 'localhost.example:1', '127.0.0.1', '128.0.0.1:1']) {
    assert.equal(isLoopbackAddress(bad), false, bad);
  }
});

test('relay ids and DNS names follow the authority rules', () => {
  assert.equal(relayId.safeParse('egress-1').success, true);
  for (const bad of ['Egress', '-a', 'a.b', '123', '']) {
    assert.equal(relayId.safeParse(bad).success, false, bad);
  }
  assert.equal(dnsName.safeParse('issuer.example').success, true);
  for (const bad of ['Issuer.example', 'issuer.example.', '1.2.3.4', '-a.example', '']) {
    assert.equal(dnsName.safeParse(bad).success, false, bad);
  }
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

test('the reference lists every key with its description, bounds and default', () => {
  const md = schemaReference('Example', schema);
  assert.deepEqual(md.split('\n'), [
    '## Example',
    '',
    '| key | type | required | default | meaning |',
    '|---|---|---|---|---|',
    '| `listen` | string | yes |  | where to listen |',
    "| `timeouts` | object |  | fields' defaults |  |",
    '| `timeouts.idleMs` | integer (≥ 1) |  | `1000` |  |',
    '| `names` | string[] |  | `[]` |  |',
  ]);
});

test('the reference: object defaults, unions, tuples, maps and discriminated unions', () => {
  const port = z.int().min(1).max(65535);
  const md = schemaReference(
    'Shapes',
    z
      .strictObject({
        ports: z.array(z.union([port, z.tuple([port, port])])).min(1),
        pair: z.tuple([z.string(), z.number()]).rest(z.boolean()).optional(),
        same: z.strictObject({ a: z.int().default(1), b: z.string().optional() }).default({ a: 1 }),
        other: z.strictObject({ a: z.int().default(1) }).default({ a: 2 }),
        names: z.record(z.string(), z.strictObject({ weight: z.number().describe('share') })),
        hosts: z.record(z.string(), z.array(z.ipv4().or(z.ipv6())).min(1)).default({}),
        id: z.string().regex(/^a|b$/).min(1).max(8).nullable(),
        how: z.discriminatedUnion('kind', [
          z.strictObject({ kind: z.literal('file'), path: z.string().min(1) }),
          z.strictObject({ kind: z.literal('env'), variable: z.string() }),
        ]),
        note: z.string().optional().describe('first line\nsecond | line'),
      })
      .describe('Every shape the apps use.'),
  );
  const row = (key: string): string => {
    const line = md.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
    assert.ok(line, `no row for ${key}:\n${md}`);
    return line;
  };
  assert.match(md, /^## Shapes\n\nEvery shape the apps use\.\n\n\| key \|/);
  // Unions inside arrays keep their parentheses; tuples read as tuples; pipes are escaped.
  assert.equal(
    row('ports'),
    '| `ports` | (integer (1–65535) \\| [integer (1–65535), integer (1–65535)])[] (non-empty) | yes |  |  |',
  );
  assert.equal(row('pair'), '| `pair` | [string, number, ...boolean[]] |  |  |  |');
  // An object default that only restates its fields' defaults is said so, not repeated.
  assert.equal(row('same'), "| `same` | object |  | fields' defaults |  |");
  assert.equal(row('same.a'), '| `same.a` | integer |  | `1` |  |');
  assert.equal(row('other'), '| `other` | object |  | `{"a":2}` |  |');
  assert.equal(row('names'), '| `names` | { [name: string]: object } | yes |  |  |');
  assert.equal(
    row('hosts'),
    '| `hosts` | { [name: string]: (string (ipv4) \\| string (ipv6))[] (non-empty) } |  | `{}` |  |',
  );
  assert.equal(row('names.<name>.weight'), '| `names.<name>.weight` | number | yes |  | share |');
  assert.equal(row('id'), '| `id` | string (1–8 chars, matches `^a\\|b$`) \\| null | yes |  |  |');
  assert.equal(row('how'), '| `how` | object | yes |  |  |');
  assert.equal(
    row('how.path'),
    '| `how.path` | string (non-empty) | yes |  | (`how.kind = "file"`) |',
  );
  assert.match(row('how.variable'), /\(`how.kind = "env"`\) \|$/);
  assert.equal(row('note'), '| `note` | string |  |  | first line second \\| line |');
});
