/**
 * Starts the real apps as child processes and waits for their `ready` log line: the relays of
 * the demo, the end-to-end tests and the bench, each with a config from `deployment.configs`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  startProcess,
  type LogRecord,
  type StartOptions,
  type StartedProcess,
} from './processes.ts';

export type AppName = 'ingress' | 'egress' | 'client' | 'issuer';

export interface AppOptions extends StartOptions {
  /** Node flags before the entry file (e.g. `--cpu-prof`, `--import` a capture preload). */
  readonly nodeArgs?: readonly string[];
  /** Entry file instead of the app's sources, e.g. the client bundle (apps/client/dist). */
  readonly main?: string;
  /**
   * `--expose-gc` and a preload that runs a full garbage collection on SIGUSR2, so resident
   * memory is read after garbage, not before (`collectGarbage()`; the app code is unchanged).
   */
  readonly gcOnSignal?: boolean;
}

export interface RunningApp extends StartedProcess {
  readonly name: AppName;
  /** Asks for a full garbage collection (needs `gcOnSignal`: SIGUSR2 would end a plain Node). */
  collectGarbage(): void;
}

const appMain = (name: AppName): string =>
  fileURLToPath(new URL(`../../../apps/${name}/src/main.js`, import.meta.url));

export const GC_PRELOAD = fileURLToPath(new URL('./gc-preload.ts', import.meta.url));

export async function startApp(
  name: AppName,
  configFile: string,
  options: AppOptions = {},
): Promise<RunningApp> {
  const gc = options.gcOnSignal ? ['--expose-gc', '--import', GC_PRELOAD] : [];
  const app = await startProcess(
    name,
    process.execPath,
    [...gc, ...(options.nodeArgs ?? []), options.main ?? appMain(name), '--config', configFile],
    options,
  );
  return {
    ...app,
    name,
    collectGarbage() {
      if (!options.gcOnSignal) throw new Error(`${name} was started without gcOnSignal`);
      app.process.kill('SIGUSR2');
    },
  };
}

/** Log records (parsed JSON lines) of a running app. */
export function records(app: { readonly lines: readonly string[] }): LogRecord[] {
  return app.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogRecord);
}

/** The port an app's `ready` record says it listens on (its `listen` field by default). */
export function listenPort(app: { readonly ready: Readonly<LogRecord> }, field = 'listen'): number {
  return Number(String(app.ready[field]).split(':').pop());
}

/**
 * Runs a relay's own sign-manifest tool on its config file with its operator's key, as the
 * operator would before starting it (apps/<app>/src/sign-manifest.ts).
 */
export function signManifest(app: 'egress' | 'ingress', configFile: string, key: string): void {
  const tool = fileURLToPath(new URL(`../../../apps/${app}/src/sign-manifest.ts`, import.meta.url));
  const res = spawnSync(
    process.execPath,
    [tool, '--config', configFile, '--key', key, '--days', '7'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (res.status !== 0) throw new Error(`sign-manifest (${app}) failed: ${res.stderr}`);
}
