/**
 * An operator's config fitted to the lab: the operator's own choices stay, what the lab must
 * change is changed, and every change is listed with its reason (secrets redacted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  fitEgressConfig,
  fitIngressConfig,
  fitIssuerConfig,
  redactOverrides,
} from '../src/index.ts';

const example = (app: string) =>
  JSON.parse(
    readFileSync(new URL(`../../../../deploy/${app}/${app}.example.json`, import.meta.url), 'utf8'),
  ) as Record<string, unknown>;
const cp = {
  servers: ['nats://198.51.100.50:4222'],
  user: 'u',
  password: 'secret-pw',
  heartbeatMs: 500,
};

test("ingress: addresses, PKI, directory and control plane are the lab's; the operator's choices stay", () => {
  const operator = {
    ...example('ingress'),
    admission: { rateLimit: { sessionsPerSecond: 5, burst: 7 } },
    limits: { maxHeaderBytes: 4096 },
  };
  const { config, overrides } = fitIngressConfig(operator, {
    listen: '198.51.100.2:443',
    tls: { cert: 'c', key: 'k' },
    trunk: { cert: 'tc', key: 'tk', localAddress: '198.51.100.2' },
    operatorPublicKey: 'op.pub',
    controlPlane: { ...cp, ingressId: 'lab-ingress' },
    health: '198.51.100.2:9001',
    privacyPass: { issuerName: 'issuer.example', origin: 'ingress.example' },
  });
  assert.equal(config.listen, '198.51.100.2:443');
  assert.equal((config.directory as Record<string, unknown>).file, undefined);
  assert.equal((config.directory as Record<string, unknown>).reloadMs, 60000, 'kept');
  assert.deepEqual(
    (config.admission as Record<string, unknown>).rateLimit,
    { sessionsPerSecond: 5, burst: 7 },
    'kept',
  );
  assert.deepEqual(config.limits, { maxHeaderBytes: 4096 });
  assert.equal(config.proxyName, 'ingress-1');
  assert.deepEqual(config.log, { level: 'info', statsIntervalMs: 60000 });
  const keys = overrides.map((o) => o.key);
  for (const k of [
    'listen',
    'tls',
    'trunk.cert',
    'trunk.key',
    'trunk.localAddress',
    'directory.file',
    'directory.operatorKeys',
    'controlPlane',
    'health',
    'admission.privacyPass',
  ])
    assert.ok(keys.includes(k), k);
  assert.ok(!keys.includes('log') && !keys.includes('proxyName') && !keys.includes('limits'));
  for (const o of overrides) assert.ok(o.reason.length > 20, `${o.key} has a reason`);
  assert.deepEqual(overrides.find((o) => o.key === 'listen')?.operator, '[::]:443');
  const shown = JSON.stringify(redactOverrides(overrides));
  assert.doesNotMatch(shown, /secret-pw/);
  assert.match(shown, /this run's/);
});

test("egress: the canary is allowed and resolvable, its id and address are the lab's; set ports are extended, not replaced", () => {
  const facts = {
    egressId: 'egress-2',
    listen: '198.51.100.19:443',
    tls: { cert: 'c', key: 'k' },
    ingressTrunkCert: 'trunk.crt',
    localAddress: '198.51.100.19',
    controlPlane: { ...cp, entryFile: 'dir.json', announceMs: 1000 },
    health: '198.51.100.19:9002',
    allowCidrs: ['203.0.113.0/28'],
    canaryPorts: [21000, 22000, 23000],
    dnsServer: '203.0.113.5:23000',
  };
  const plain = fitEgressConfig(example('egress'), facts);
  const policy = plain.config.policy as Record<string, unknown>;
  assert.deepEqual(policy.allowCidrs, ['203.0.113.0/28']);
  assert.deepEqual(policy.denyPorts, [25], 'kept');
  assert.equal(policy.allowPorts, undefined, 'not invented');
  assert.deepEqual((plain.config.dns as Record<string, unknown>).servers, ['203.0.113.5:23000']);
  assert.deepEqual(plain.config.timeouts, { connectMs: 10000, dnsMs: 5000, idleMs: 300000 });
  const strict = fitEgressConfig(
    { ...example('egress'), policy: { allowCidrs: ['10.9.0.0/16'], allowPorts: [443] } },
    facts,
  );
  const sp = strict.config.policy as Record<string, unknown>;
  assert.deepEqual(sp.allowCidrs, ['10.9.0.0/16', '203.0.113.0/28']);
  assert.deepEqual(sp.allowPorts, [443, 21000, 22000, 23000]);
  const allow = strict.overrides.find((o) => o.key === 'policy.allowCidrs');
  assert.deepEqual(allow?.operator, ['10.9.0.0/16']);
  // Already allowed: nothing to say.
  const already = fitEgressConfig(
    { ...example('egress'), policy: { allowCidrs: ['203.0.113.0/28'] } },
    facts,
  );
  assert.equal(
    already.overrides.find((o) => o.key === 'policy.allowCidrs'),
    undefined,
  );
});

test("issuer: its name and limits stay; keys, attester and control plane are the lab's", () => {
  const { config, overrides } = fitIssuerConfig(example('issuer'), {
    listen: '198.51.100.34:443',
    tls: { cert: 'c', key: 'k' },
    issuerName: 'issuer.mno.example',
    keys: [{ privateKey: 'k.pem', notBefore: 1, notAfter: 2 }],
    subscribersFile: 'subs.json',
    controlPlane: {
      servers: cp.servers,
      user: 'issuer',
      password: 'x',
      issuerId: 'lab-issuer',
      announceMs: 1000,
    },
    health: '198.51.100.34:9003',
  });
  assert.equal(config.issuerName, 'issuer.mno.example');
  assert.deepEqual(config.limits, {
    tokensPerSubscriberPerHour: 200,
    maxRequestBytes: 16384,
    maxBatch: 32,
  });
  const keys = overrides.map((o) => o.key);
  assert.ok(!keys.includes('issuerName') && !keys.includes('limits'));
  for (const k of ['listen', 'tls', 'keys', 'attester', 'controlPlane', 'health'])
    assert.ok(keys.includes(k), k);
  const bare = fitIssuerConfig(
    {},
    {
      ...JSON.parse(
        JSON.stringify({
          listen: 'a:1',
          tls: { cert: 'c', key: 'k' },
          issuerName: 'i',
          keys: [],
          subscribersFile: 's',
          controlPlane: { servers: [], user: 'u', password: 'p', issuerId: 'i', announceMs: 1 },
          health: 'h:1',
        }),
      ),
    },
  );
  assert.ok(
    bare.overrides.some((o) => o.key === 'limits'),
    'limits added, and said so',
  );
});
