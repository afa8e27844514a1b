/**
 * The example an ingress operator starts from must be a config the ingress accepts: only the
 * schema is checked here (the files it names need not exist on this machine).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parseConfig } from '@splitrelay/config';
import { ingressConfigSchema } from '../src/config.ts';

const examplePath = new URL('../../../deploy/ingress/ingress.example.json', import.meta.url);
const example: unknown = JSON.parse(readFileSync(examplePath, 'utf8'));

test('deploy/ingress/ingress.example.json is a valid ingress config', () => {
  const config = parseConfig(ingressConfigSchema, example, 'ingress.example.json');
  assert.equal(config.listen, '[::]:443');
  assert.equal(config.directory.operatorKeys.length, 1);
});

test('every file the example names is an absolute path', () => {
  // systemd starts the service in "/", so a relative path would quietly mean something else.
  const config = parseConfig(ingressConfigSchema, example, 'ingress.example.json');
  const files = [
    config.tls.cert,
    config.tls.key,
    config.trunk.cert,
    config.trunk.key,
    ...(config.directory.file ? [config.directory.file] : []),
    ...config.directory.operatorKeys.map((k) => k.publicKey),
  ];
  for (const file of files) assert.ok(isAbsolute(file), file);
});
