/**
 * The issuer's config schema: the deploy example is valid, and every mistake an operator is
 * likely to make is refused with the others, not at first use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { ConfigError, parseConfig } from '@splitrelay/config';
import { issuerConfigSchema, TOKEN_REQUEST_BYTES } from '../src/config.ts';

const examplePath = new URL('../../../deploy/issuer/issuer.example.json', import.meta.url);
const example = JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown>;

const minimal = {
  listen: '127.0.6.1:8443',
  tls: { cert: '/c.pem', key: '/k.pem' },
  issuerName: 'issuer.splitrelay.test',
  keys: [{ privateKey: '/t.key', notBefore: 1_800_000_000, notAfter: 1_800_086_400 }],
  attester: { type: 'file', file: '/subscribers.json' },
  limits: { tokensPerSubscriberPerHour: 100, maxRequestBytes: 16_384 },
};

const problems = (input: unknown): string[] => {
  try {
    parseConfig(issuerConfigSchema, input);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
  return [];
};

test('deploy/issuer/issuer.example.json is a valid issuer config with absolute paths', () => {
  const config = parseConfig(issuerConfigSchema, example, 'issuer.example.json');
  assert.equal(config.issuerName, 'issuer.mno.example');
  assert.equal(config.keys.length, 2);
  // The example shows a rotation: the two windows overlap.
  assert.ok(config.keys[1]!.notBefore < config.keys[0]!.notAfter);
  assert.equal(config.controlPlane?.user, 'issuer');
  const files = [
    config.tls.cert,
    config.tls.key,
    config.attester.file,
    ...config.keys.map((k) => k.privateKey),
  ];
  for (const file of files) assert.ok(isAbsolute(file), file);
});

test('a minimal config gets its defaults', () => {
  const config = parseConfig(issuerConfigSchema, minimal);
  assert.equal(config.limits.maxBatch, 32);
  assert.deepEqual(config.log, { level: 'info', statsIntervalMs: 60_000 });
  assert.equal(config.controlPlane, undefined);
  assert.ok(Object.isFrozen(config.keys[0]));
  const withCp = parseConfig(issuerConfigSchema, {
    ...minimal,
    controlPlane: {
      servers: ['nats://127.0.7.1:4222'],
      user: 'issuer',
      password: 'p',
      issuerId: 'issuer-1',
    },
  });
  assert.equal(withCp.controlPlane?.announceMs, 30_000);
});

test('mistakes are refused, all of them at once', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['unknown key', { ...minimal, extra: 1 }, /Unrecognized key/],
    [
      'key window backwards',
      { ...minimal, keys: [{ ...minimal.keys[0], notAfter: 1_700_000_000 }] },
      /keys\.0\.notAfter: must be after notBefore/,
    ],
    [
      'key time in ms',
      { ...minimal, keys: [{ ...minimal.keys[0], notAfter: 1_800_086_400_000 }] },
      /keys\.0\.notAfter/,
    ],
    ['no keys', { ...minimal, keys: [] }, /keys/],
    ['issuer name with capitals', { ...minimal, issuerName: 'Issuer.Example' }, /issuerName/],
    ['issuer name with a port', { ...minimal, issuerName: 'issuer.example:443' }, /issuerName/],
    ['unknown attester', { ...minimal, attester: { type: 'ldap', file: '/x' } }, /attester/],
    ['attester without file', { ...minimal, attester: { type: 'file' } }, /attester\.file/],
    [
      'body bound below one token request',
      { ...minimal, limits: { ...minimal.limits, maxRequestBytes: TOKEN_REQUEST_BYTES - 1 } },
      /limits\.maxRequestBytes/,
    ],
    [
      'no rate',
      { ...minimal, limits: { maxRequestBytes: 8192 } },
      /limits\.tokensPerSubscriberPerHour/,
    ],
    ['zero batch', { ...minimal, limits: { ...minimal.limits, maxBatch: 0 } }, /limits\.maxBatch/],
    [
      'batch bigger than the body bound',
      { ...minimal, limits: { ...minimal.limits, maxRequestBytes: 4096 } },
      /limits\.maxRequestBytes: must hold a full batch/,
    ],
    [
      'heartbeat on an issuer',
      {
        ...minimal,
        controlPlane: {
          servers: ['nats://h:4222'],
          user: 'u',
          password: 'p',
          issuerId: 'i',
          heartbeatMs: 1000,
        },
      },
      /Unrecognized key/,
    ],
    [
      'issuer id not a label',
      {
        ...minimal,
        controlPlane: {
          servers: ['nats://h:4222'],
          user: 'u',
          password: 'p',
          issuerId: 'Issuer 1',
        },
      },
      /controlPlane\.issuerId/,
    ],
    [
      'stats every millisecond',
      { ...minimal, log: { statsIntervalMs: 1 } },
      /log\.statsIntervalMs/,
    ],
  ];
  for (const [what, input, pattern] of bad) {
    const found = problems(input);
    assert.ok(
      found.some((p) => pattern.test(p)),
      `${what}: ${found.join(' | ')}`,
    );
  }
  const several = problems({ ...minimal, issuerName: 'X', limits: { maxRequestBytes: 1 } });
  assert.ok(several.length >= 3, several.join(' | '));
});
