/**
 * The workspace's dependency graph as the code has it: for each workspace package, the
 * workspace packages its runtime sources import (tests excluded: they never ship). Read from
 * the import specifiers themselves rather than package.json, so an import that a manifest
 * forgot is still seen.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface WorkspacePackage {
  readonly name: string;
  readonly dir: string;
}

/** Import and export-from specifiers, static and dynamic, of one source file. */
export function importSpecifiers(source: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|[^.\w$])(?:import|export)\s*(?:[^'"();]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of source.matchAll(re)) out.push((m[1] ?? m[2]) as string);
  return out;
}

/** The package a specifier names: `@scope/name/sub` → `@scope/name`. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(?:ts|js|mjs)$/.test(name)) out.push(path);
  }
  return out;
}

/** Every workspace package under the given roots (each folder with a package.json). */
export function workspacePackages(root: string, globs: readonly string[]): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const glob of globs) {
    const parts = glob.split('/');
    let dirs = [root];
    for (const part of parts) {
      dirs = dirs.flatMap((d) =>
        part === '*'
          ? readdirSync(d)
              .map((n) => join(d, n))
              .filter((p) => statSync(p).isDirectory())
          : [join(d, part)],
      );
    }
    for (const dir of dirs) {
      try {
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name: string;
        };
        out.push({ name: manifest.name, dir });
      } catch {
        // Not a package.
      }
    }
  }
  return out;
}

/** For each package, the workspace packages its `src/` imports. */
export function runtimeImports(packages: readonly WorkspacePackage[]): Map<string, Set<string>> {
  const names = new Set(packages.map((p) => p.name));
  const graph = new Map<string, Set<string>>();
  for (const pkg of packages) {
    const deps = new Set<string>();
    let files: string[] = [];
    try {
      files = sourceFiles(join(pkg.dir, 'src'));
    } catch {
      // A package without sources (a test-only member).
    }
    for (const file of files) {
      for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
        const name = packageOf(spec);
        if (name !== undefined && names.has(name) && name !== pkg.name) deps.add(name);
      }
    }
    graph.set(pkg.name, deps);
  }
  return graph;
}

/**
 * Every package reachable from `entry`, each with one path that reaches it (the shortest), so
 * a failure says how a forbidden package got in.
 */
export function closure(
  graph: ReadonlyMap<string, ReadonlySet<string>>,
  entry: string,
): Map<string, string[]> {
  const paths = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    for (const next of graph.get(at) ?? []) {
      if (paths.has(next)) continue;
      paths.set(next, [...(paths.get(at) as string[]), next]);
      queue.push(next);
    }
  }
  return paths;
}

/** The forbidden packages in `entry`'s closure, each with the path that brings it in. */
export function forbiddenIn(
  graph: ReadonlyMap<string, ReadonlySet<string>>,
  entry: string,
  forbidden: readonly string[],
): string[][] {
  const reach = closure(graph, entry);
  return forbidden.filter((f) => reach.has(f)).map((f) => reach.get(f) as string[]);
}
