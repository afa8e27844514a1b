import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../src/args.ts';
import { runCli } from './helpers.ts';

test('the commands and their options', () => {
  assert.deepEqual(parseArgs(['lab']), {
    command: 'lab',
    mode: 'auto',
    quick: false,
    controls: [],
    configs: {},
  });
  assert.deepEqual(
    parseArgs([
      'lab',
      '--ingress-config',
      'i.json',
      '--egress-config',
      'e.json',
      '--mode',
      'loopback',
      '--quick',
      '--control',
      'client-names-target',
      '--control',
      'ingress-passes-token',
      '--evidence',
      '/tmp/x',
    ]),
    {
      command: 'lab',
      mode: 'loopback',
      quick: true,
      controls: ['client-names-target', 'ingress-passes-token'],
      evidence: '/tmp/x',
      configs: { ingress: 'i.json', egress: 'e.json' },
    },
  );
  assert.deepEqual(parseArgs(['live', 's.json', '--quick']), {
    command: 'live',
    settings: 's.json',
    quick: true,
  });
  assert.deepEqual(parseArgs(['analyze', 'dir']), { command: 'analyze', dir: 'dir' });
  assert.deepEqual(parseArgs(['sweep']), { command: 'sweep' });
  assert.deepEqual(parseArgs([]), { command: 'help' });
});

test('mistakes are refused with the usage', () => {
  for (const bad of [
    ['nope'],
    ['lab', '--mode', 'sideways'],
    ['lab', '--control', 'not-a-control'],
    ['lab', '--ingress-config'],
    ['lab', '--ingress-config', 'a', '--ingress-config', 'b'],
    ['lab', '--settings', 'x'],
    ['lab', 'extra'],
    ['live'],
    ['live', 'a', 'b'],
    ['analyze'],
    ['sweep', '--quick'],
  ])
    assert.throws(
      () => parseArgs(bad),
      (e: unknown) => e instanceof UsageError && /usage:/.test(e.message),
      bad.join(' '),
    );
});

test('the CLI exits 2 with the usage on a mistake, 0 with it on help', async () => {
  const bad = await runCli(['lab', '--mode', 'sideways'], { timeoutMs: 30_000 });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--mode sideways\?[\s\S]*usage:/);
  const help = await runCli(['help'], { timeoutMs: 30_000 });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /splitrelay-audit lab/);
});
