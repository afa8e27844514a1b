/** The one command-line convention of every app: `--config <file.json>`. */
import { readFileSync } from 'node:fs';

export function configPathFromArgv(argv: readonly string[], usage: string): string {
  const i = argv.indexOf('--config');
  const path = i >= 0 ? argv[i + 1] : undefined;
  if (path === undefined || path.startsWith('--')) {
    process.stderr.write(`usage: ${usage} --config <file.json>\n`);
    process.exit(2);
  }
  return path;
}

/** Reads a PEM file named in a config; the error names the file. */
export function readPem(path: string): string {
  return readFileSync(path, 'utf8');
}
