/**
 * Workspace hygiene: one version of each dependency (every package names it `catalog:`, and
 * the catalog lists nothing unused), and each package's manifest names exactly the workspace
 * packages its code imports, so the dependency graph the isolation test walks is the one
 * pnpm installs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importSpecifiers, packageOf, runtimeImports, workspacePackages } from '../src/index.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const members = workspacePackages(root, [
  'apps/*',
  'packages/core/*',
  'packages/infra/*',
  'packages/hops/*',
  'tools/*',
  'test',
  'bench',
]);

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const manifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The `catalog:` block of pnpm-workspace.yaml: `name: version` lines under it. */
function catalog(): Map<string, string> {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const block = yaml.slice(yaml.indexOf('\ncatalog:\n') + '\ncatalog:\n'.length);
  const out = new Map<string, string>();
  for (const line of block.split('\n')) {
    const m = /^ {2}'?([^':]+)'?: (\S+)$/.exec(line);
    if (!m) break;
    out.set(m[1] as string, m[2] as string);
  }
  return out;
}

test('every external dependency comes from the catalog, and the catalog has nothing unused', () => {
  const entries = catalog();
  assert.ok(entries.size >= 10, 'the catalog was read');
  const used = new Set<string>();
  for (const dir of [root, ...members.map((m) => m.dir)]) {
    const m = manifest(dir);
    for (const deps of [m.dependencies ?? {}, m.devDependencies ?? {}]) {
      for (const [name, spec] of Object.entries(deps)) {
        if (spec.startsWith('workspace:')) continue;
        assert.equal(spec, 'catalog:', `${m.name} pins ${name} itself (${spec})`);
        assert.ok(entries.has(name), `${name} (${m.name}) is in the catalog`);
        used.add(name);
      }
    }
  }
  assert.deepEqual(
    [...entries.keys()].filter((name) => !used.has(name)),
    [],
  );
});

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (/\.(?:ts|js)$/.test(name)) out.push(path);
  }
  return out;
}

test('each manifest names exactly the workspace packages its code imports', () => {
  const names = new Set(members.map((m) => m.name));
  const runtime = runtimeImports(members);
  const problems: string[] = [];
  for (const member of members) {
    const m = manifest(member.dir);
    const declared = new Set(
      Object.keys({ ...m.dependencies, ...m.devDependencies }).filter((n) => names.has(n)),
    );
    const imported = new Set<string>();
    for (const file of files(member.dir)) {
      for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
        const name = packageOf(spec);
        if (name !== undefined && names.has(name) && name !== m.name) imported.add(name);
      }
    }
    for (const name of imported) {
      if (!declared.has(name)) problems.push(`${m.name} imports ${name} but does not declare it`);
    }
    for (const name of declared) {
      if (!imported.has(name)) problems.push(`${m.name} declares ${name} but never imports it`);
    }
    // What the shipped code imports must be a runtime dependency, not a dev one.
    for (const name of runtime.get(m.name) ?? []) {
      if (!(m.dependencies ?? {})[name]) problems.push(`${m.name}: ${name} must be a dependency`);
    }
  }
  assert.deepEqual(problems, []);
});
