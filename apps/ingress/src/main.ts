#!/usr/bin/env node
/** splitrelay-ingress --config ingress.json */
import { ConfigError, configPathFromArgv, loadConfigFile } from '@splitrelay/config';
import { createLogger } from '@splitrelay/log';
import { tuneProcess } from '@splitrelay/net-tuning';
import { ingressConfigSchema } from './config.ts';
import { startIngress } from './ingress.ts';

try {
  const config = await loadConfigFile(
    ingressConfigSchema,
    configPathFromArgv(process.argv, 'splitrelay-ingress'),
  );
  tuneProcess();
  const log = createLogger('ingress', { level: config.log.level });
  const ingress = await startIngress(config, log);
  log.info('ready', {
    listen: `${ingress.address.address}:${ingress.address.port}`,
    pid: process.pid,
  });
  const stop = (): void => {
    log.info('stopping');
    void ingress.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (err) {
  process.stderr.write(
    `${err instanceof ConfigError ? err.message : String((err as Error).stack ?? err)}\n`,
  );
  process.exit(1);
}
