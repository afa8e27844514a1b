#!/usr/bin/env node
/**
 * The egress operator's manifest tool: signs this egress's operator manifest, built from the
 * config file the egress runs with, with the operator key that signs its directory entry.
 * The egress checks it at start and refuses to run with one that says anything else.
 *
 *   node apps/egress/src/sign-manifest.ts --config egress.json --key operator.key --days 30
 */
import { loadConfigFile } from '@splitrelay/config';
import { signManifestCommand } from '@splitrelay/operator-manifest';
import { egressConfigSchema } from './config.ts';
import { egressClaims } from './manifest.ts';

await signManifestCommand({
  async claims(configPath, kid) {
    const config = await loadConfigFile(egressConfigSchema, configPath);
    if (!config.manifest) throw new Error(`${configPath} has no manifest block`);
    return { claims: egressClaims(config, kid), file: config.manifest.file };
  },
});
