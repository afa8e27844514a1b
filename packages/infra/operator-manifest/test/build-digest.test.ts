/**
 * The build digest on a small workspace laid out as pnpm lays one out: an app, a workspace
 * library linked into its node_modules, and a third-party package in the store with a
 * dependency of its own. Each input it claims to cover must change it when changed (the
 * controls), and what it does not cover (tests, docs) must not.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDigest, buildInputs } from '../src/index.ts';

const root = mkdtempSync(join(tmpdir(), 'build-digest-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}
function pkg(
  dir: string,
  name: string,
  version: string,
  dependencies: Record<string, string> = {},
) {
  write(`${dir}/package.json`, JSON.stringify({ name, version, dependencies }));
}
function link(from: string, to: string): void {
  mkdirSync(join(root, from, '..'), { recursive: true });
  symlinkSync(join(root, to), join(root, from));
}

pkg('apps/relay', '@x/relay', '1.0.0', { '@x/lib': 'workspace:*', zed: '^2.0.0' });
write('apps/relay/src/main.ts', 'export const main = 1;\n');
write('apps/relay/test/main.test.ts', 'test\n');
write('apps/relay/README.md', 'docs\n');
pkg('packages/lib', '@x/lib', '0.1.0', { zed: '^2.0.0' });
write('packages/lib/src/index.ts', 'export const lib = 1;\n');
write('packages/lib/src/deep/part.ts', 'export const part = 1;\n');
pkg('node_modules/.pnpm/zed@2.1.0/node_modules/zed', 'zed', '2.1.0', { tiny: '^1.0.0' });
pkg('node_modules/.pnpm/tiny@1.0.4/node_modules/tiny', 'tiny', '1.0.4');
// pnpm puts a package's own dependencies beside it in the store.
link(
  'node_modules/.pnpm/zed@2.1.0/node_modules/tiny',
  'node_modules/.pnpm/tiny@1.0.4/node_modules/tiny',
);
link('apps/relay/node_modules/@x/lib', 'packages/lib');
link('apps/relay/node_modules/zed', 'node_modules/.pnpm/zed@2.1.0/node_modules/zed');
link('packages/lib/node_modules/zed', 'node_modules/.pnpm/zed@2.1.0/node_modules/zed');

const app = join(root, 'apps/relay');

test('inputs: workspace sources and manifests, every installed package once, the Node version', () => {
  const inputs = buildInputs(app, '26.10.0');
  assert.deepEqual(
    inputs.map((l) => l.replace(/ [0-9a-f]{64}$/, '')),
    [
      'file @x/lib/package.json',
      'file @x/lib/src/deep/part.ts',
      'file @x/lib/src/index.ts',
      'file @x/relay/package.json',
      'file @x/relay/src/main.ts',
      'node 26.10.0',
      'package tiny@1.0.4',
      'package zed@2.1.0',
    ],
  );
  assert.match(buildDigest(app), /^sha256:[0-9a-f]{64}$/);
  assert.equal(buildDigest(app, '26.10.0'), buildDigest(app, '26.10.0'));
});

test('controls: each covered input changes the digest; tests and docs do not', () => {
  const before = buildDigest(app, '26.10.0');
  const changes: [string, () => void, () => void][] = [
    [
      'a library source',
      () => write('packages/lib/src/deep/part.ts', 'export const part = 2;\n'),
      () => write('packages/lib/src/deep/part.ts', 'export const part = 1;\n'),
    ],
    [
      'an app source',
      () => write('apps/relay/src/extra.ts', 'x\n'),
      () => rmSync(join(root, 'apps/relay/src/extra.ts')),
    ],
    [
      'a transitive third-party version',
      () => pkg('node_modules/.pnpm/tiny@1.0.4/node_modules/tiny', 'tiny', '1.0.5'),
      () => pkg('node_modules/.pnpm/tiny@1.0.4/node_modules/tiny', 'tiny', '1.0.4'),
    ],
  ];
  for (const [what, change, undo] of changes) {
    change();
    assert.notEqual(buildDigest(app, '26.10.0'), before, what);
    undo();
    assert.equal(buildDigest(app, '26.10.0'), before, `${what} undone`);
  }
  assert.notEqual(buildDigest(app, '26.11.0'), before, 'the Node version');
  write('apps/relay/test/main.test.ts', 'changed\n');
  write('apps/relay/README.md', 'changed\n');
  assert.equal(buildDigest(app, '26.10.0'), before);
});

test('a dependency that is not installed is an error, not a silent gap', () => {
  pkg('packages/lib', '@x/lib', '0.1.0', { zed: '^2.0.0', missing: '^1.0.0' });
  assert.throws(() => buildInputs(app), /@x\/lib depends on missing, which is not installed/);
  pkg('packages/lib', '@x/lib', '0.1.0', { zed: '^2.0.0' });
});
