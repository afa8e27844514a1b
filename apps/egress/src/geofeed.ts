#!/usr/bin/env node
/**
 * Prints this egress's RFC 8805 geofeed, from the same config file the egress runs with, for
 * the operator's publishing step (an HTTPS URL named by the `geofeed:` attribute of the RPSL
 * objects covering the pools, RFC 9632; an RPKI signature block may be appended there).
 *
 *   node apps/egress/src/geofeed.ts --config egress.json > geofeed.csv
 */
import { cliArgs, loadConfigFile, ConfigError } from '@splitrelay/config';
import {
  compilePools,
  generateGeofeed,
  type EgressAddressesConfig,
} from '@splitrelay/egress-addresses';
import { egressConfigSchema } from './config.ts';

const cli = cliArgs('usage: geofeed --config egress.json', { config: { type: 'string' } });
const fail: (message: string) => never = cli.fail;
if (!cli.values.config) fail('missing --config');

try {
  const config = await loadConfigFile(egressConfigSchema, cli.values.config);
  if (!config.addresses) fail('this egress has no address pools (addresses) to publish');
  const pools = compilePools(config.addresses as EgressAddressesConfig);
  process.stdout.write(
    generateGeofeed(pools, { comments: [`splitrelay egress ${config.egressId}`] }),
  );
} catch (err) {
  fail(err instanceof ConfigError ? err.message : (err as Error).message);
}
