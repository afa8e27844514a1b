/**
 * The example an egress operator starts from must be a config the egress accepts: only the
 * schema is checked here (the files it names need not exist on this machine).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parseConfig } from '@splitrelay/config';
import { egressConfigSchema } from '../src/config.ts';

const examplePath = new URL('../../../deploy/egress/egress.example.json', import.meta.url);
const example: unknown = JSON.parse(readFileSync(examplePath, 'utf8'));

test('deploy/egress/egress.example.json is a valid egress config', () => {
  const config = parseConfig(egressConfigSchema, example, 'egress.example.json');
  assert.equal(config.egressId, 'egress-1');
  assert.equal(config.listen, '[::]:443');
  // The example must not open anything the built-in policy refuses.
  assert.deepEqual(config.policy.allowCidrs, []);
  assert.equal(config.log.flows, false);
  // Address pools per region, drawn per session, with a signed manifest that states them.
  assert.deepEqual(
    config.addresses?.regions.map((r) => r.id),
    ['nl', 'de', 'de-munich'],
  );
  assert.equal(config.localAddress, undefined);
  assert.ok(config.manifest);
});

test('every file the example names is an absolute path', () => {
  // systemd starts the service in "/", so a relative path would quietly mean something else.
  const config = parseConfig(egressConfigSchema, example, 'egress.example.json');
  const files = [
    config.tls.cert,
    config.tls.key,
    ...config.knownIngresses.map((k) => k.cert),
    ...(config.manifest ? [config.manifest.file, config.manifest.operatorPublicKey] : []),
  ];
  for (const file of files) assert.ok(isAbsolute(file), file);
});
