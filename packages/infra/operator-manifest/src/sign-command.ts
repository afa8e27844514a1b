/**
 * The body of each relay's sign-manifest tool: build the claims from the config file the
 * relay runs with, sign them with the operator key, check the result verifies, and write
 * it where the config's `manifest.file` says (or `--out`).
 *
 *   sign-manifest --config relay.json --key operator.key --days 30 [--out manifest.json] [--version N]
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cliArgs, ConfigError } from '@splitrelay/config';
import { keyIdOf } from '@splitrelay/directory';
import { verifyManifest } from '@splitrelay/egress-addresses';
import { issueManifest, type ManifestClaims } from './claims.ts';

export interface SignManifestSpec {
  /** The relay's claims from its config file, for the operator key id that signs them. */
  readonly claims: (
    configPath: string,
    operatorKid: string,
  ) => Promise<{ readonly claims: ManifestClaims; readonly file: string | undefined }>;
}

const usage =
  'usage: sign-manifest --config relay.json --key operator.key --days N [--out manifest.json] [--version N]';

export async function signManifestCommand(spec: SignManifestSpec): Promise<void> {
  const cli = cliArgs(usage, {
    config: { type: 'string' },
    key: { type: 'string' },
    days: { type: 'string' },
    out: { type: 'string' },
    version: { type: 'string' },
  });
  const fail: (message: string) => never = cli.fail;
  const { config, key, days, version } = cli.values;
  if (!config || !key || !days) fail('missing a required flag');
  const privateKey = createPrivateKey(readFileSync(key, 'utf8'));
  const publicKey = createPublicKey(privateKey);
  const kid = keyIdOf(publicKey);
  let built: Awaited<ReturnType<SignManifestSpec['claims']>>;
  try {
    built = await spec.claims(config, kid);
  } catch (err) {
    fail(err instanceof ConfigError ? err.message : (err as Error).message);
  }
  const out = cli.values.out ?? built.file;
  if (out === undefined) fail('the config names no manifest.file: give --out');
  const now = Math.floor(Date.now() / 1000);
  let signed;
  try {
    signed = issueManifest(built.claims, privateKey, {
      now,
      days: Number(days),
      ...(version !== undefined ? { version: Number(version) } : {}),
    });
    verifyManifest(signed, new Map([[kid, publicKey]]), now);
  } catch (err) {
    fail(`cannot sign this manifest: ${(err as Error).message}`);
  }
  // Through a temporary file and a rename, so a relay reloading never reads half of one.
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(signed, null, 2)}\n`);
  renameSync(tmp, out);
  process.stdout.write(
    `signed the ${built.claims.role} manifest of ${built.claims.relayId} (key ${kid}, valid ${days} days) into ${out}\n`,
  );
}
