import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const argv = fileURLToPath(new URL('../src/argv.ts', import.meta.url));
const program = `
  import { cliArgs } from ${JSON.stringify(argv)};
  const { values, fail } = cliArgs('usage: demo --out FILE', { out: { type: 'string' } });
  if (!values.out) fail('missing --out');
  process.stdout.write('out=' + values.out);
`;
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--input-type=module', '-e', program, '--', ...args], {
    encoding: 'utf8',
  });

test('cliArgs gives the flags, and every mistake the reason, the usage and exit 2', () => {
  const ok = run('--out', 'x.json');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'out=x.json');
  for (const [args, reason] of [
    [['--bogus'], /Unknown option '--bogus'/],
    [[], /missing --out/],
  ] as const) {
    const bad = run(...args);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, reason);
    assert.match(bad.stderr, /usage: demo --out FILE/);
  }
});
