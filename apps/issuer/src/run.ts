/** splitrelay-issuer --config issuer.json */
import { runApp } from '@splitrelay/service';
import { configPathFromArgv, loadConfigFile } from '@splitrelay/config';
import { issuerConfigSchema } from './config.ts';
import { startIssuer } from './issuer.ts';

await runApp({
  name: 'splitrelay-issuer',
  role: 'issuer',
  schema: issuerConfigSchema,
  async start(config, log) {
    const issuer = await startIssuer(config, log, {
      // A key rotation edits the `keys` list: SIGHUP reads the file again for it.
      rereadConfig: () =>
        loadConfigFile(issuerConfigSchema, configPathFromArgv(process.argv, 'splitrelay-issuer')),
    });
    return {
      ready: {
        listen: `${issuer.address.address}:${issuer.address.port}`,
        keys: issuer.keysNow,
        ...(config.controlPlane ? { issuerId: config.controlPlane.issuerId } : {}),
      },
      reload() {
        // runApp's reload is synchronous; the keys load asynchronously, so report here.
        issuer
          .reload()
          .catch((err: unknown) => log.error('reload failed', { reason: (err as Error).message }));
      },
      close: () => issuer.close(),
    };
  },
});
