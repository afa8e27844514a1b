/** The command-line conventions: `--config <file.json>` for every app, strict flags for CLIs. */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

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

/**
 * A CLI's flags, parsed strictly from process.argv. Anything wrong (an unknown flag, a missing
 * value, or whatever the CLI itself rejects through `fail`) prints the reason and the usage
 * line, and exits 2.
 */
export function cliArgs<const O extends ParseArgsOptionsConfig>(
  usage: string,
  options: O,
): {
  values: ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'];
  fail: (message: string) => never;
} {
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n${usage}\n`);
    process.exit(2);
  };
  try {
    return { values: parseArgs({ options, strict: true }).values, fail };
  } catch (err) {
    return fail((err as Error).message);
  }
}
