/** splitrelay-ingress --config ingress.json */
import { runApp } from '@splitrelay/service';
import { ingressConfigSchema } from './config.ts';
import { startIngress } from './ingress.ts';

await runApp({
  name: 'splitrelay-ingress',
  role: 'ingress',
  schema: ingressConfigSchema,
  async start(config, log) {
    const ingress = await startIngress(config, log);
    return {
      ready: { listen: `${ingress.address.address}:${ingress.address.port}` },
      reload: () => ingress.reload(),
      close: () => ingress.close(),
    };
  },
});
