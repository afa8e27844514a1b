/** splitrelay-egress --config egress.json */
import { runApp } from '@splitrelay/service';
import { egressConfigSchema } from './config.ts';
import { startEgress } from './egress.ts';

await runApp({
  name: 'splitrelay-egress',
  role: 'egress',
  schema: egressConfigSchema,
  async start(config, log) {
    const egress = await startEgress(config, log);
    return {
      ready: {
        egressId: config.egressId,
        listen: `${egress.address.address}:${egress.address.port}`,
      },
      reload: () => egress.reload(),
      close: () => egress.close(),
    };
  },
});
