/**
 * splitrelay-client --config client.json: local SOCKS5 and HTTP proxies through both relays,
 * and (configured) the Oblivious HTTP endpoint and the DNS forwarder.
 */
import { runApp } from '@splitrelay/service';
import { clientConfigSchema } from './config.ts';
import { startClient } from './client.ts';

await runApp({
  name: 'splitrelay-client',
  role: 'client',
  schema: clientConfigSchema,
  async start(config, log) {
    const client = await startClient(config, log);
    return {
      ready: {
        ...(client.socks
          ? { socks: `socks5h://${client.socks.address}:${client.socks.port}` }
          : {}),
        ...(client.http ? { http: `http://${client.http.address}:${client.http.port}` } : {}),
        ...(client.ohttp ? { ohttp: `http://${client.ohttp.address}:${client.ohttp.port}` } : {}),
        ...(client.dns ? { dns: `${client.dns.address}:${client.dns.port}` } : {}),
      },
      close: () => client.close(),
    };
  },
});
