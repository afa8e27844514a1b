#!/usr/bin/env node
/** splitrelay-egress --config egress.json */
import { ConfigError, configPathFromArgv, loadConfigFile } from '@splitrelay/config';
import { createLogger } from '@splitrelay/log';
import { tuneProcess } from '@splitrelay/net-tuning';
import { egressConfigSchema } from './config.ts';
import { startEgress } from './egress.ts';

try {
  const config = await loadConfigFile(
    egressConfigSchema,
    configPathFromArgv(process.argv, 'splitrelay-egress'),
  );
  tuneProcess();
  const log = createLogger('egress', { level: config.log.level });
  const egress = await startEgress(config, log);
  log.info('ready', {
    egressId: config.egressId,
    listen: `${egress.address.address}:${egress.address.port}`,
    pid: process.pid,
  });
  const stop = (): void => {
    log.info('stopping');
    void egress.close().then(() => process.exit(0));
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
