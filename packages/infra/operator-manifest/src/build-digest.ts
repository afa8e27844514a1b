/**
 * The build a relay runs, as one SHA-256: the sources of its app and of every workspace
 * package it depends on, the name and version of every third-party package installed for
 * it (its whole dependency closure, as Node would resolve it), and the Node version. The
 * relay computes it at start and its operator's sign-manifest tool on the checkout it signs
 * from, so a manifest names exactly the code it was signed for, and anyone with the same
 * checkout and lockfile gets the same digest.
 *
 *   digest = sha256( sorted lines of
 *              "file <package>/<path> <sha256 of the bytes>"    workspace packages: package.json, src/**
 *              "package <name>@<version>"                         third-party packages
 *              "node <version>" )
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

interface PackageJson {
  readonly name?: string;
  readonly version?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Where `name` resolves from `fromDir`, Node's way: the nearest node_modules up the tree. */
function findPackage(fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

const sha256 = (bytes: string | Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The lines the digest is made of, sorted; exported for an auditor who wants to see which
 * input differs. `appDir` is the app's package folder (the one with its package.json).
 */
export function buildInputs(appDir: string, nodeVersion: string = process.versions.node): string[] {
  const lines = new Set<string>([`node ${nodeVersion}`]);
  const seen = new Set<string>();
  const visit = (dir: string): void => {
    const real = realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const manifest = readPackage(real);
    const name = manifest.name ?? relative(appDir, real);
    // Workspace packages are linked in from outside any node_modules: their sources count.
    if (!real.split(sep).includes('node_modules')) {
      for (const file of [join(real, 'package.json'), ...filesUnder(join(real, 'src'))]) {
        const path = relative(real, file).split(sep).join('/');
        lines.add(`file ${name}/${path} ${sha256(readFileSync(file))}`);
      }
    } else {
      lines.add(`package ${name}@${manifest.version ?? '?'}`);
    }
    const deps = { ...manifest.optionalDependencies, ...manifest.dependencies };
    for (const dep of Object.keys(deps).sort()) {
      const found = findPackage(real, dep);
      // An optional dependency for another platform is simply not installed.
      if (found === undefined) {
        if (manifest.optionalDependencies?.[dep] !== undefined) continue;
        throw new Error(`${name} depends on ${dep}, which is not installed`);
      }
      visit(found);
    }
  };
  visit(appDir);
  return [...lines].sort();
}

/** `sha256:` and 64 hex digits, as the manifest's `software.buildDigest` holds it. */
export function buildDigest(appDir: string, nodeVersion?: string): string {
  return `sha256:${sha256(`${buildInputs(appDir, nodeVersion).join('\n')}\n`)}`;
}
