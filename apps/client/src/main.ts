#!/usr/bin/env node
/** splitrelay-client --config client.json: local SOCKS5 and HTTP proxies through both relays. */
import { ConfigError, configPathFromArgv, loadConfigFile } from '@splitrelay/config';
import { createLogger } from '@splitrelay/log';
import { tuneProcess } from '@splitrelay/net-tuning';
import { clientConfigSchema } from './config.ts';
import { startClient } from './client.ts';

try {
  const config = await loadConfigFile(
    clientConfigSchema,
    configPathFromArgv(process.argv, 'splitrelay-client'),
  );
  tuneProcess();
  const log = createLogger('client', { level: config.log.level });
  const client = await startClient(config, log);
  log.info('ready', {
    ...(client.socks ? { socks: `socks5h://${client.socks.address}:${client.socks.port}` } : {}),
    ...(client.http ? { http: `http://${client.http.address}:${client.http.port}` } : {}),
    pid: process.pid,
  });
  const stop = (): void => {
    void client.close().then(() => process.exit(0));
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
