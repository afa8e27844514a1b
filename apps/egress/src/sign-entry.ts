#!/usr/bin/env node
/**
 * The egress operator's signing tool: writes (or replaces) this egress's signed entry in a
 * directory file. Several --cert flags pin several keys, for a rotation's overlap window.
 * --ohttp-keys publishes the gateway's key configurations (`splitrelay-ohttp-keys export`),
 * so every client sees the same ones.
 *
 *   node apps/egress/src/sign-entry.ts --key operator.key --id egress-1 \
 *     --endpoint egress-1.cdn.example:443 --region eu --cert egress.crt --days 30 --out directory.json
 *
 * With address pools, `--serves-from egress.json` states where they geolocate to (the
 * countries and subdivisions of its `addresses`), and `--geofeed URL` / `--manifest URL`
 * name where the egress's geofeed and signed manifest are published.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  claimedEntryId,
  directoryFile,
  keyIdOf,
  signEntry,
  signedEntrySchema,
  spkiPin,
  verifyEntry,
  type SignedEntry,
  readSignedEntries,
  writeDirectoryFile,
  ohttpKeyIds,
} from '@splitrelay/directory';
import { cliArgs, loadConfigFile } from '@splitrelay/config';
import { decodeKeys } from '@splitrelay/ohttp';
import { egressConfigSchema } from './config.ts';

const usage =
  'usage: sign-entry --key operator.key --id ID --endpoint host:port --region R --cert egress.crt [--cert next.crt] [--ohttp-keys ohttp-keys.bin] --days N --out directory.json [--version N] [--serves-from egress.json] [--geofeed URL] [--manifest URL]';

const cli = cliArgs(usage, {
  key: { type: 'string' },
  id: { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  cert: { type: 'string', multiple: true },
  days: { type: 'string' },
  out: { type: 'string' },
  version: { type: 'string' },
  'ohttp-keys': { type: 'string' },
  'serves-from': { type: 'string' },
  geofeed: { type: 'string' },
  manifest: { type: 'string' },
});
const { values } = cli;
// Annotated, so TypeScript narrows after a call to it.
const fail: (message: string) => never = cli.fail;

const { key, id, endpoint, region, cert, days, out } = values;
if (!key || !id || !endpoint || !region || !cert || cert.length === 0 || !days || !out)
  fail('missing a required flag');
const validDays = Number(days);
if (!Number.isInteger(validDays) || validDays < 1 || validDays > 366)
  fail('--days must be a whole number from 1 to 366');

/** The exported key list, checked fully (each configuration decodes, one we support at least). */
function ohttpKeysField(file: string): string {
  const bytes = new Uint8Array(readFileSync(file));
  let configs;
  try {
    configs = decodeKeys(bytes);
  } catch (err) {
    fail(`--ohttp-keys ${file} is not application/ohttp-keys: ${(err as Error).message}`);
  }
  if (configs.skipped > 0 || configs.value.length === 0)
    fail(`--ohttp-keys ${file} lists a key this project cannot use`);
  return Buffer.from(bytes).toString('base64url');
}
const ohttpKeys =
  values['ohttp-keys'] === undefined ? undefined : ohttpKeysField(values['ohttp-keys']);

/** Where the pools of the egress's config geolocate to, as the entry's `serves` says it. */
async function servesFrom(configPath: string): Promise<string[]> {
  const config = await loadConfigFile(egressConfigSchema, configPath).catch((err: Error) =>
    fail(err.message),
  );
  if (config.egressId !== id) fail(`${configPath} is the config of ${config.egressId}, not ${id}`);
  if (!config.addresses) fail(`${configPath} has no address pools`);
  const codes = config.addresses.regions.flatMap((r) => [
    r.country,
    ...(r.subdivision ? [r.subdivision] : []),
  ]);
  return [...new Set(codes)].sort();
}
const serves = values['serves-from'] ? await servesFrom(values['serves-from']) : undefined;

const privateKey = createPrivateKey(readFileSync(key, 'utf8'));
const kid = keyIdOf(createPublicKey(privateKey));
const now = Math.floor(Date.now() / 1000);
const entry = {
  v: 1 as const,
  id,
  operator: kid,
  endpoint,
  region,
  tlsPins: cert.map((file) => spkiPin(readFileSync(file, 'utf8'))),
  notBefore: now - 60,
  notAfter: now + validDays * 86_400,
  // Seconds since the epoch: a later signing always replaces an earlier one.
  version: values.version !== undefined ? Number(values.version) : now,
  ...(serves ? { serves } : {}),
  ...(values.geofeed ? { geofeed: values.geofeed } : {}),
  ...(values.manifest ? { manifest: values.manifest } : {}),
  ...(ohttpKeys !== undefined ? { ohttpKeys } : {}),
};

let signed: SignedEntry;
try {
  signed = signEntry(entry, privateKey, kid);
  verifyEntry(signed, new Map([[kid, createPublicKey(privateKey)]]), now);
} catch (err) {
  fail(`cannot sign this entry: ${(err as Error).message}`);
}

// Keep the other egresses' entries; replace this egress's own.
const others: SignedEntry[] = [];
if (existsSync(out)) {
  for (const raw of readSignedEntries(out)) {
    const parsed = signedEntrySchema.safeParse(raw);
    if (parsed.success && claimedEntryId(parsed.data) !== id) others.push(parsed.data);
  }
}
writeDirectoryFile(out, directoryFile([...others, signed]));
process.stdout.write(
  `signed ${id} (key ${kid}, ${entry.tlsPins.length} pin(s)${ohttpKeys !== undefined ? `, ohttp keys ${ohttpKeyIds(ohttpKeys).join(', ')}` : ''}, valid until ${new Date(entry.notAfter * 1000).toISOString()}) into ${out}\n`,
);
