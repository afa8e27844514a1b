/** splitrelay-egress --config egress.json */
import { runApp } from '@splitrelay/service';
import { egressConfigSchemaOnHost } from './config.ts';
import { readHostFacts } from './host-routes.ts';
import { startEgress } from './egress.ts';

await runApp({
  name: 'splitrelay-egress',
  role: 'egress',
  schema: egressConfigSchemaOnHost(readHostFacts),
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
