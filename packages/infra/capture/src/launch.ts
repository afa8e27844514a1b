/**
 * How to start a process under observation: the preload to pass to `node --import` and the
 * variable that names its output file. The apps' code is unchanged; only their command line
 * and environment differ.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CAPTURE_ENV, DNS_OBSERVER_ENV } from './env.ts';

/** `node --import CAPTURE_PRELOAD …` records what the process learns (capture-preload.ts). */
export const CAPTURE_PRELOAD = fileURLToPath(new URL('./capture-preload.ts', import.meta.url));
/** `node --import DNS_OBSERVER_PRELOAD …` records the names it looks up. */
export const DNS_OBSERVER_PRELOAD = fileURLToPath(
  new URL('./dns-observer-preload.ts', import.meta.url),
);

export interface Launch {
  readonly nodeArgs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** Node flags and environment that capture a process to `file`. */
export function captureLaunch(file: string): Launch {
  return { nodeArgs: ['--import', CAPTURE_PRELOAD], env: { [CAPTURE_ENV]: file } };
}

/** Node flags and environment that record a process's lookups to `file`. */
export function dnsObserverLaunch(file: string): Launch {
  return { nodeArgs: ['--import', DNS_OBSERVER_PRELOAD], env: { [DNS_OBSERVER_ENV]: file } };
}

/** Both observers at once. */
export function combineLaunches(...launches: readonly Launch[]): Launch {
  return {
    nodeArgs: launches.flatMap((l) => l.nodeArgs),
    env: Object.assign({}, ...launches.map((l) => l.env)) as Record<string, string>,
  };
}

/** The names a process looked up (`<function>:<name>`), from dns-observer-preload.ts's file. */
export async function readLookups(file: string): Promise<string[]> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!Array.isArray(parsed) || !parsed.every((n) => typeof n === 'string'))
    throw new TypeError(`${file} is not a list of looked-up names`);
  return parsed;
}
