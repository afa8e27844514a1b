/**
 * Claims, drift, issuing, the relay's start-up check and the auditor's fetch, on a real
 * loopback HTTP server: a manifest that verifies is returned as signed, a tampered, foreign,
 * expired or drifted one is refused with a reason, and a server that misbehaves (wrong
 * status, not JSON, too large) is an error, never a manifest.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@splitrelay/config';
import { DirectoryError, generateOperatorKey, type SignedEnvelope } from '@splitrelay/directory';
import {
  fetchManifest,
  issueManifest,
  loadSignedManifest,
  logFieldsOf,
  manifestDrift,
  operatorKid,
  type ManifestClaims,
} from '../src/index.ts';

const NOW = 1_800_000_000;
const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function operator(name: string): {
  kid: string;
  key: KeyObject;
  pubFile: string;
  trusted: Record<string, string>;
} {
  const k = generateOperatorKey();
  const pubFile = join(dir, `${name}.pub`);
  writeFileSync(pubFile, k.publicKeyPem);
  return {
    kid: k.kid,
    key: createPrivateKey(k.privateKeyPem),
    pubFile,
    trusted: { [k.kid]: k.publicKeyPem },
  };
}
const op = operator('op');
const other = operator('other');

function claims(overrides: Partial<ManifestClaims> = {}): ManifestClaims {
  return {
    v: 1,
    operator: op.kid,
    relayId: 'egress-1',
    role: 'egress',
    forwardsClientData: false,
    logging: {
      level: 'info',
      fields: logFieldsOf('egress'),
      perFlowRecords: false,
      clientAddresses: false,
      targets: false,
    },
    retention: { logsDays: 7, metricsDays: 30 },
    addresses: {
      drawnPer: 'session',
      entropyFloorBits: 8,
      regions: [
        { id: 'nl', country: 'NL', prefixes: ['198.51.100.0/24'], entropyBits: { ipv4: 7.98 } },
      ],
    },
    tokens: { required: false, tokenTypes: [], issuers: [], doubleSpend: 'none' },
    software: {
      name: '@splitrelay/egress-app',
      version: '0.1.0',
      buildDigest: `sha256:${'1'.repeat(64)}`,
    },
    ...overrides,
  };
}

function signedFile(name: string, signed: unknown): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(signed));
  return file;
}

test('the egress log fields hold no client address; the ingress ones hold no target', () => {
  assert.ok(!logFieldsOf('egress').includes('clientAddr'));
  assert.ok(logFieldsOf('ingress').includes('clientAddr'));
  assert.ok(!logFieldsOf('ingress').some((f) => f.startsWith('target')));
  for (const role of ['egress', 'ingress'] as const) {
    const fields = logFieldsOf(role);
    assert.deepEqual(fields, [...new Set(fields)].sort());
    for (const f of ['event', 'level', 'role', 'time']) assert.ok(fields.includes(f));
  }
});

test('drift lists every differing claim by path, and ignores the signing window', () => {
  const signed = { ...claims(), issuedAt: NOW - 60, notAfter: NOW + 86_400, version: NOW };
  assert.deepEqual(manifestDrift(claims(), signed), []);
  const running = claims({
    logging: { ...claims().logging, level: 'debug', perFlowRecords: true },
    retention: { logsDays: 90, metricsDays: 30 },
    software: { ...claims().software, buildDigest: `sha256:${'2'.repeat(64)}` },
  });
  assert.deepEqual(manifestDrift(running, signed), [
    'logging.level: the manifest says "info", this relay runs with "debug"',
    'logging.perFlowRecords: the manifest says false, this relay runs with true',
    'retention.logsDays: the manifest says 7, this relay runs with 90',
    `software.buildDigest: the manifest says "sha256:${'1'.repeat(64)}", this relay runs with "sha256:${'2'.repeat(64)}"`,
  ]);
  // A region added to the pools, and a claim the manifest lacks, are differences too.
  const more = claims({
    addresses: {
      ...claims().addresses!,
      regions: [
        ...claims().addresses!.regions,
        { id: 'de', country: 'DE', prefixes: ['203.0.113.0/24'], entropyBits: { ipv4: 7.98 } },
      ],
    },
  });
  assert.equal(manifestDrift(more, signed).length, 1);
  const { addresses: _a, ...withoutAddresses } = signed;
  assert.match(
    manifestDrift(claims(), withoutAddresses as never)[0]!,
    /^addresses: the manifest says nothing/,
  );
});

test('issuing signs a window from a minute ago for N days, versioned by time', () => {
  const signed = issueManifest(claims(), op.key, { now: NOW, days: 30 });
  const file = signedFile('issued', signed);
  const loaded = loadSignedManifest(file, op.pubFile, claims(), NOW, 'sign-manifest');
  assert.equal(loaded.manifest.issuedAt, NOW - 60);
  assert.equal(loaded.manifest.notAfter, NOW + 30 * 86_400);
  assert.equal(loaded.manifest.version, NOW);
  assert.deepEqual(loaded.signed, signed);
  assert.equal(issueManifest(claims(), op.key, { now: NOW, days: 1, version: 7 }).kid, op.kid);
  assert.throws(() => issueManifest(claims(), op.key, { now: NOW, days: 0 }), RangeError);
  assert.throws(() => issueManifest(claims(), op.key, { now: NOW, days: 367 }), RangeError);
  // Claims that fail the manifest schema are never signed.
  assert.throws(() =>
    issueManifest(claims({ relayId: 'Not A Label' }), op.key, { now: NOW, days: 1 }),
  );
  assert.equal(operatorKid(op.pubFile), op.kid);
});

function refusedAtStart(file: string, pub: string, running: ManifestClaims, now: number): string[] {
  try {
    loadSignedManifest(file, pub, running, now, 'node sign-manifest.ts');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.ok(err.message.includes(file));
    return [...err.problems];
  }
  assert.fail('the manifest was accepted');
}

test('the start-up check refuses a drifted, tampered, foreign, expired or unreadable manifest', () => {
  const signed = issueManifest(claims(), op.key, { now: NOW, days: 30 });
  const good = signedFile('good', signed);
  const fix = 'sign it again for this config: node sign-manifest.ts';
  assert.deepEqual(refusedAtStart(good, op.pubFile, claims({ forwardsClientData: true }), NOW), [
    'forwardsClientData: the manifest says false, this relay runs with true',
    fix,
  ]);
  const payload = Buffer.from(signed.payload, 'base64url')
    .toString()
    .replace('"logsDays":7', '"logsDays":1');
  const tampered = signedFile('tampered', {
    ...signed,
    payload: Buffer.from(payload).toString('base64url'),
  });
  assert.deepEqual(refusedAtStart(tampered, op.pubFile, claims(), NOW), [
    'the manifest does not verify: signature verification failed',
    fix,
  ]);
  assert.match(refusedAtStart(good, other.pubFile, claims(), NOW)[0]!, /unknown key/);
  assert.match(refusedAtStart(good, op.pubFile, claims(), NOW + 31 * 86_400)[0]!, /expired/);
  assert.match(
    refusedAtStart(join(dir, 'absent.json'), op.pubFile, claims(), NOW)[0]!,
    /cannot read the signed manifest/,
  );
});

/** A loopback HTTP server answering each GET with what `answer` says. */
async function serving(
  answer: (res: http.ServerResponse) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => answer(res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/.well-known/splitrelay/manifest`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

test('the auditor fetch verifies what it gets and refuses everything else', async () => {
  const now = Math.floor(Date.now() / 1000);
  const signed: SignedEnvelope = issueManifest(claims(), op.key, { now, days: 1 });
  let body = JSON.stringify(signed);
  let status = 200;
  const server = await serving((res) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(body),
  );
  try {
    const fetched = await fetchManifest(server.url, op.trusted);
    assert.deepEqual(fetched.signed, signed);
    assert.equal(fetched.manifest.relayId, 'egress-1');
    const isCode = (code: string) => (err: unknown) =>
      err instanceof DirectoryError && err.code === code;
    await assert.rejects(fetchManifest(server.url, other.trusted), isCode('unknown-key'));
    await assert.rejects(
      fetchManifest(server.url, op.trusted, { now: now + 2 * 86_400 }),
      isCode('expired'),
    );
    // One character of the signature changed (not at the end: an Ed25519 S is below 2^253,
    // so its top byte is often zero already and the last characters may change nothing).
    const flipped = signed.sig[10] === 'A' ? 'B' : 'A';
    body = JSON.stringify({
      ...signed,
      sig: `${signed.sig.slice(0, 10)}${flipped}${signed.sig.slice(11)}`,
    });
    await assert.rejects(fetchManifest(server.url, op.trusted), isCode('bad-signature'));
    body = 'not json';
    await assert.rejects(fetchManifest(server.url, op.trusted), isCode('malformed'));
    body = 'x'.repeat(400 * 1024);
    await assert.rejects(fetchManifest(server.url, op.trusted), /over \d+ bytes/);
    body = JSON.stringify(signed);
    status = 404;
    await assert.rejects(fetchManifest(server.url, op.trusted), /answered 404/);
    await assert.rejects(fetchManifest('ftp://127.0.0.1/x', op.trusted), TypeError);
  } finally {
    await server.close();
  }
});
