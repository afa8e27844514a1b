/**
 * Every config `deployment.configs` builds parses with its app's own schema, the way the demo,
 * the end-to-end world and the bench ask for it, and points at the deployment's files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientConfigSchema } from '../../../apps/client/src/config.ts';
import { egressConfigSchema } from '../../../apps/egress/src/config.ts';
import { ingressConfigSchema } from '../../../apps/ingress/src/config.ts';
import { issuerConfigSchema } from '../../../apps/issuer/src/config.ts';
import { mergeConfig, prepareDeployment, type Deployment, type RoleConfig } from '../src/index.ts';

const LOGIN = { servers: ['nats://127.0.7.1:4222'], user: 'u', password: 'p' };
let dir: string;
let deployment: Deployment;
let bare: Deployment;
let oblivious: Deployment;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-deployment-configs-'));
  deployment = await prepareDeployment({
    dir: join(dir, 'full'),
    ingressHost: '127.0.2.1',
    ingressName: 'ingress.splitrelay.test',
    ingressId: 'ingress-7',
    egresses: [
      { id: 'egress-1', host: '127.0.3.1', port: 8443, region: 'eu' },
      { id: 'egress-2', host: '127.0.3.2', port: 8444, region: 'us' },
    ],
    targetHosts: ['127.0.4.1'],
    targetName: 'target.splitrelay.test',
    targetCidrs: ['127.0.4.0/24'],
    clientHost: '127.0.1.1',
    issuer: { host: '127.0.6.1', name: 'issuer.splitrelay.test', port: 8445 },
  });
  // No issuer, no client address, default ports and allowlist.
  bare = await prepareDeployment({
    dir: join(dir, 'bare'),
    ingressHost: '127.0.2.1',
    ingressName: 'ingress.splitrelay.test',
    egresses: [{ id: 'egress-1', host: '127.0.3.1', port: 8443, region: 'eu' }],
    targetHosts: ['127.0.4.1'],
    targetName: 'target.splitrelay.test',
  });
  // Oblivious HTTP: a gateway key ring per egress, two KEMs.
  oblivious = await prepareDeployment({
    dir: join(dir, 'ohttp'),
    ingressHost: '127.0.2.1',
    ingressName: 'ingress.splitrelay.test',
    egresses: [
      { id: 'egress-1', host: '127.0.3.1', port: 8443, region: 'eu' },
      { id: 'egress-2', host: '127.0.3.2', port: 8444, region: 'us' },
    ],
    targetHosts: ['127.0.4.1'],
    targetName: 'target.splitrelay.test',
    ohttp: { kems: ['x25519', 'x-wing'] },
  });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What this test needs of an app's zod schema (zod itself is the apps' dependency). */
interface Schema {
  safeParse(
    input: unknown,
  ):
    | { success: true }
    | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

/** Parses like the app does; a failure lists every problem. */
function parses(schema: Schema, config: RoleConfig): void {
  // Through JSON, as the app reads it from its file (`undefined` keys vanish there).
  const result = schema.safeParse(JSON.parse(JSON.stringify(config)));
  assert.ok(
    result.success,
    result.success
      ? ''
      : result.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('\n'),
  );
}

/** Every file path in a config exists in the deployment. */
function filesExist(config: unknown, root: string): number {
  let count = 0;
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && v.startsWith(root)) {
      assert.ok(existsSync(v), `${v} does not exist`);
      count++;
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(config);
  return count;
}

describe('each role parses with its app schema', () => {
  test('egress: bare, with overrides, with a control plane', () => {
    const { configs } = deployment;
    for (const id of ['egress-1', 'egress-2']) {
      const config = configs.egress(id);
      parses(egressConfigSchema, config);
      assert.ok(filesExist(config, deployment.dir) >= 2);
      assert.equal(config.egressId, id);
      assert.deepEqual(config.tls, deployment.egress[id]);
    }
    assert.deepEqual(configs.egress('egress-1').knownIngresses, [
      { name: 'ingress-7', cert: deployment.ingress.trunkCert },
    ]);
    assert.deepEqual(configs.egress('egress-2').listen, '127.0.3.2:8444');
    assert.deepEqual(configs.egress('egress-1').policy, { allowCidrs: ['127.0.4.0/24'] });
    assert.deepEqual(configs.egress('egress-1').dns, {
      hosts: { 'target.splitrelay.test': ['127.0.4.1'] },
    });
    const tuned = configs.egress('egress-1', {
      log: { level: 'info', statsIntervalMs: 600_000, flows: false },
      limits: { maxFlowsPerSession: 20_000 },
      controlPlane: { ...LOGIN, heartbeatMs: 500, announceMs: 1000 },
    });
    parses(egressConfigSchema, tuned);
    assert.deepEqual(tuned.controlPlane, {
      entryFile: deployment.directoryFile,
      ...LOGIN,
      heartbeatMs: 500,
      announceMs: 1000,
    });
    assert.throws(() => configs.egress('egress-9'), /no egress egress-9/);
  });

  test('ingress: with Privacy Pass keys from the file, or over a control plane', () => {
    const { configs } = deployment;
    const config = configs.ingress();
    parses(ingressConfigSchema, config);
    assert.ok(filesExist(config, deployment.dir) >= 5);
    assert.equal(config.listen, '127.0.2.1:0');
    assert.deepEqual(config.directory, {
      file: deployment.directoryFile,
      operatorKeys: [{ publicKey: deployment.operatorPublicKey }],
    });
    const privacyPass = (config.admission as { privacyPass: Record<string, unknown> }).privacyPass;
    assert.equal(privacyPass.issuerName, 'issuer.splitrelay.test');
    assert.equal(privacyPass.origin, 'ingress.splitrelay.test');
    assert.deepEqual(privacyPass.keys, [
      { tokenKey: deployment.issuer!.tokenKey, ...deployment.issuer!.keyWindow },
    ]);
    const overNats = configs.ingress({
      directory: { file: undefined },
      health: { listen: '127.0.2.1:9101' },
      admission: {
        rateLimit: { sessionsPerSecond: 10_000, burst: 10_000 },
        privacyPass: { keys: [] },
      },
      controlPlane: { ...LOGIN, heartbeatMs: 1000 },
    });
    parses(ingressConfigSchema, overNats);
    assert.equal('file' in (overNats.directory as object), false);
    assert.deepEqual(overNats.admission, {
      privacyPass: { ...privacyPass, keys: [] },
      rateLimit: { sessionsPerSecond: 10_000, burst: 10_000 },
    });
    assert.deepEqual(overNats.controlPlane, {
      ingressId: 'ingress-7',
      ...LOGIN,
      heartbeatMs: 1000,
    });
    // Negative control: the schema this test trusts does reject what it should.
    assert.throws(() => parses(ingressConfigSchema, configs.ingress({ bogus: 1 })), /bogus/);
    assert.throws(
      () => parses(ingressConfigSchema, configs.ingress({ directory: { file: undefined } })),
      /a source of egresses/,
    );
  });

  test('issuer: listens on its spec address, with the token key and subscribers', () => {
    const config = deployment.configs.issuer({
      limits: { tokensPerSubscriberPerHour: 2000, maxRequestBytes: 16_384, maxBatch: 32 },
      log: { level: 'info', statsIntervalMs: 5000 },
      controlPlane: { servers: LOGIN.servers, user: 'issuer', password: 'p', issuerId: 'issuer-1' },
    });
    parses(issuerConfigSchema, config);
    assert.ok(filesExist(config, deployment.dir) >= 4);
    assert.equal(config.listen, '127.0.6.1:8445');
    assert.equal(config.issuerName, 'issuer.splitrelay.test');
    assert.throws(() => bare.configs.issuer(), /no issuer/);
  });

  test('client: of the running ingress, with tokens only given the issuer', () => {
    const { configs } = deployment;
    const config = configs.client(
      { ingressPort: 4443, issuerUrl: 'https://127.0.6.1:8445' },
      {
        socks: { listen: '127.0.0.1:0' },
        http: { listen: '127.0.0.1:0' },
        log: { level: 'debug' },
      },
    );
    parses(clientConfigSchema, config);
    assert.ok(filesExist(config, deployment.dir) >= 5);
    assert.deepEqual(config.ingress, {
      address: '127.0.2.1:4443',
      servername: 'ingress.splitrelay.test',
      ca: deployment.caCert,
    });
    assert.equal(config.localAddress, '127.0.1.1');
    assert.deepEqual(config.tokens, {
      issuer: 'https://127.0.6.1:8445',
      ca: deployment.caCert,
      servername: 'issuer.splitrelay.test',
      credentialFile: deployment.issuer!.credentialFile,
    });
    assert.equal('tokens' in configs.client({ ingressPort: 4443 }), false);
    const fetching = configs.client(
      { ingressPort: 4443 },
      { directory: { file: undefined, refreshMs: 1000 } },
    );
    parses(clientConfigSchema, fetching);
    assert.deepEqual(fetching.directory, {
      operatorKeys: [{ publicKey: deployment.operatorPublicKey }],
      refreshMs: 1000,
    });
  });

  test('a deployment without issuer or client address: no Privacy Pass, no source address', () => {
    const ingress = bare.configs.ingress();
    parses(ingressConfigSchema, ingress);
    assert.equal('admission' in ingress, false);
    const egress = bare.configs.egress('egress-1');
    parses(egressConfigSchema, egress);
    assert.deepEqual(egress.policy, { allowCidrs: ['127.0.4.1/32'] });
    assert.deepEqual(egress.knownIngresses, [{ name: 'ingress-1', cert: bare.ingress.trunkCert }]);
    const client = bare.configs.client({ ingressPort: 1, issuerUrl: 'https://127.0.6.1:1' });
    parses(clientConfigSchema, client);
    assert.equal('localAddress' in client, false);
    assert.equal('tokens' in client, false);
  });
});

test('Oblivious HTTP: each egress a gateway with its own key ring, the ingress its relay', () => {
  const { configs } = oblivious;
  for (const id of ['egress-1', 'egress-2']) {
    const egress = configs.egress(id);
    parses(egressConfigSchema, egress);
    const ring = oblivious.ohttpKeyRings[id]!;
    assert.ok(existsSync(ring));
    assert.deepEqual(egress.ohttp, { keyRing: ring, ca: oblivious.caCert });
    // Its entry publishes that ring's keys.
    assert.ok(oblivious.entries.find((e) => e.id === id)?.ohttpKeys);
  }
  assert.notEqual(oblivious.ohttpKeyRings['egress-1'], oblivious.ohttpKeyRings['egress-2']);
  // What a caller adds merges into the block; the ring and the CA stay.
  const withDoh = configs.egress('egress-1', { ohttp: { doh: { upstream: '127.0.4.53:5300' } } });
  parses(egressConfigSchema, withDoh);
  assert.deepEqual(withDoh.ohttp, {
    keyRing: oblivious.ohttpKeyRings['egress-1'],
    ca: oblivious.caCert,
    doh: { upstream: '127.0.4.53:5300' },
  });
  const ingress = configs.ingress({ ohttp: { requestsPerToken: 100 } });
  parses(ingressConfigSchema, ingress);
  assert.deepEqual(ingress.ohttp, { requestsPerToken: 100 });
  parses(
    clientConfigSchema,
    configs.client({ ingressPort: 4443 }, { ohttp: { listen: '127.0.0.1:0' } }),
  );
  // Without it: no gateway, no relay, no keys in the entries.
  assert.equal('ohttp' in deployment.configs.egress('egress-1'), false);
  assert.equal('ohttp' in deployment.configs.ingress(), false);
  assert.deepEqual(deployment.ohttpKeyRings, {});
  assert.ok(deployment.entries.every((e) => e.ohttpKeys === undefined));
});

test('mergeConfig: objects merge at any depth, arrays and values replace, undefined removes', () => {
  const base = { a: { b: { c: 1, d: 2 }, list: [1, 2] }, keep: 'x', drop: 'y' };
  const merged = mergeConfig(base, {
    a: { b: { c: 3 }, list: [9] },
    drop: undefined,
    added: { z: true },
  });
  assert.deepEqual(merged, { a: { b: { c: 3, d: 2 }, list: [9] }, keep: 'x', added: { z: true } });
  // The base is not changed.
  assert.deepEqual(base, { a: { b: { c: 1, d: 2 }, list: [1, 2] }, keep: 'x', drop: 'y' });
  // An object over a value, and a value over an object, replace.
  assert.deepEqual(mergeConfig({ a: 1, b: { c: 1 } }, { a: { x: 1 }, b: 2 }), {
    a: { x: 1 },
    b: 2,
  });
});
