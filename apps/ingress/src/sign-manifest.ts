#!/usr/bin/env node
/**
 * The ingress operator's manifest tool: signs this ingress's operator manifest, built from
 * the config file the ingress runs with, with the operator key that signs its trunk
 * certificates. The ingress checks it at start and refuses to run with one that says
 * anything else.
 *
 *   node apps/ingress/src/sign-manifest.ts --config ingress.json --key operator.key --days 30
 */
import { loadConfigFile } from '@splitrelay/config';
import { signManifestCommand } from '@splitrelay/operator-manifest';
import { ingressConfigSchema } from './config.ts';
import { ingressClaims } from './manifest.ts';

await signManifestCommand({
  async claims(configPath, kid) {
    const config = await loadConfigFile(ingressConfigSchema, configPath);
    if (!config.manifest) throw new Error(`${configPath} has no manifest block`);
    return { claims: ingressClaims(config, kid), file: config.manifest.file };
  },
});
