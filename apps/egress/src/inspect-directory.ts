#!/usr/bin/env node
/**
 * An operator's view of a directory file: every entry with its verdict against the given
 * operator keys (valid, expired, bad signature, unknown key, ...), its endpoint, region,
 * pins and validity. Exit code 1 when any entry is refused, so scripts can gate on it.
 *
 *   node apps/egress/src/inspect-directory.ts --file directory.json --operator-key operator.pub
 */
import { readFileSync } from 'node:fs';
import { verifyDirectory, readTrustedKeys } from '@splitrelay/directory';
import { cliArgs } from '@splitrelay/config';

const usage =
  'usage: inspect-directory --file directory.json --operator-key operator.pub [--operator-key ...] [--json]';
const cli = cliArgs(usage, {
  file: { type: 'string' },
  'operator-key': { type: 'string', multiple: true },
  json: { type: 'boolean' },
});
const { values } = cli;
// Annotated, so TypeScript narrows after a call to it.
const fail: (message: string) => never = cli.fail;
const keyFiles = values['operator-key'] ?? [];
if (!values.file || keyFiles.length === 0) fail('missing a required flag');

const now = Math.floor(Date.now() / 1000);
const file = JSON.parse(readFileSync(values.file, 'utf8')) as unknown;
const verified = verifyDirectory(
  file,
  readTrustedKeys(keyFiles.map((publicKey) => ({ publicKey }))),
  now,
);
const rows = [
  ...[...verified.entries.values()].map((e) => ({
    verdict: 'valid',
    id: e.id,
    endpoint: e.endpoint,
    region: e.region,
    pins: e.tlsPins.map((p) => `${p.slice(0, 12)}…`).join(' '),
    validUntil: new Date(e.notAfter * 1000).toISOString(),
    version: e.version,
  })),
  ...verified.rejected.map((r) => ({
    verdict: r.code,
    id: `entry #${r.index}`,
    endpoint: '',
    region: '',
    pins: '',
    validUntil: '',
    version: '',
    reason: r.reason,
  })),
];
if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
else console.table(rows);
process.exit(verified.rejected.length > 0 ? 1 : 0);
