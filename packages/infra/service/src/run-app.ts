/**
 * The one `main` of every relay program: read `--config`, validate it, tune the process,
 * start, log `ready` with the fields the app returns, and stop cleanly on SIGTERM/SIGINT.
 * A config problem exits 1 with every problem listed; nothing starts half-configured.
 */
import type { z } from 'zod';
import {
  ConfigError,
  configPathFromArgv,
  loadConfigFile,
  type DeepReadonly,
} from '@splitrelay/config';
import { createLogger, type FieldsOf, type RoleLogger, type Role } from '@splitrelay/log';
import { tuneProcess } from '@splitrelay/transport';

export interface Running<R extends Role> {
  /** Fields of the `ready` log line (tests and the demo read it). */
  readonly ready: FieldsOf[R];
  /** SIGHUP: re-read what can change without a restart (e.g. TLS keys during rotation). */
  reload?(): void;
  close(): Promise<void>;
}

export interface AppSpec<R extends Role, S extends z.ZodType<{ log: { level: string } }>> {
  readonly name: string;
  readonly role: R;
  readonly schema: S;
  readonly start: (config: DeepReadonly<z.output<S>>, log: RoleLogger<R>) => Promise<Running<R>>;
}

export async function runApp<R extends Role, S extends z.ZodType<{ log: { level: string } }>>(
  spec: AppSpec<R, S>,
): Promise<void> {
  try {
    const config = await loadConfigFile(spec.schema, configPathFromArgv(process.argv, spec.name));
    tuneProcess();
    const log = createLogger(spec.role, { level: config.log.level as 'info' });
    const app = await spec.start(config, log);
    log.info('ready', { ...app.ready, pid: process.pid });
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      log.info('stopping');
      setTimeout(() => process.exit(0), 2000).unref();
      void app.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('SIGHUP', () => {
      try {
        app.reload?.();
      } catch (err) {
        log.error('reload failed', { reason: (err as Error).message });
      }
    });
  } catch (err) {
    process.stderr.write(
      `${err instanceof ConfigError ? err.message : String((err as Error).stack ?? err)}\n`,
    );
    process.exit(1);
  }
}
