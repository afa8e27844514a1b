import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import {
  DirectoryError,
  generateOperatorKey,
  SIGNATURE_CONTEXT,
  signEntry,
  verifyEntry,
  type DirectoryErrorCode,
  type Entry,
  type SignedEnvelope,
} from '@splitrelay/directory';
import {
  generateGeofeed,
  manifestAddresses,
  parseAddressPools,
  parseGeofeed,
  signManifest,
  verifyManifest,
  type Manifest,
} from '../src/index.ts';
import { sampleConfig } from './fixtures.ts';

const NOW = 1_800_000_000;

function operator(): { kid: string; privateKey: KeyObject; publicKey: KeyObject } {
  const key = generateOperatorKey();
  const privateKey = createPrivateKey(key.privateKeyPem);
  return { kid: key.kid, privateKey, publicKey: createPublicKey(privateKey) };
}

const op = operator();
const trusted = new Map([[op.kid, op.publicKey]]);
const pools = (() => {
  const r = parseAddressPools(sampleConfig());
  assert.ok(r.ok);
  return r.pools;
})();

function manifestFor(
  kid: string,
  overrides: Partial<Record<keyof Manifest, unknown>> = {},
): Manifest {
  return {
    v: 1,
    operator: kid,
    relayId: 'edge-fra-1',
    role: 'egress',
    version: 3,
    issuedAt: NOW - 3600,
    notAfter: NOW + 30 * 86400,
    forwardsClientData: false,
    logging: {
      level: 'info',
      fields: ['bytesIn', 'bytesOut', 'flows', 'refused', 'sessions'],
      perFlowRecords: false,
      clientAddresses: false,
      targets: false,
    },
    retention: { logsDays: 7, metricsDays: 30 },
    addresses: manifestAddresses(pools),
    tokens: {
      required: true,
      tokenTypes: [2],
      issuers: ['issuer.relay.example'],
      doubleSpend: 'fleet',
    },
    software: {
      name: 'splitrelay-egress',
      version: '0.1.0',
      buildDigest: `sha256:${'ab'.repeat(32)}`,
    },
    ...overrides,
  } as Manifest;
}

/** Signs raw payload bytes as the wire format says, apart from the package. */
function rawSign(payload: string, privateKey: KeyObject, kid: string): SignedEnvelope {
  const bytes = Buffer.from(payload, 'utf8');
  const context = Buffer.from('splitrelay-operator-manifest-v1\0', 'latin1');
  const sig = sign(null, Buffer.concat([context, bytes]), privateKey);
  return { payload: bytes.toString('base64url'), sig: sig.toString('base64url'), kid };
}

function throwsCode(fn: () => unknown, code: DirectoryErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DirectoryError, `expected DirectoryError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

test('sign then verify returns the same manifest, frozen all the way down', () => {
  const m = manifestFor(op.kid);
  const verified = verifyManifest(signManifest(m, op.privateKey, op.kid), trusted, NOW);
  assert.deepEqual(verified, m);
  assert.ok(Object.isFrozen(verified) && Object.isFrozen(verified.logging.fields));
  assert.ok(Object.isFrozen(verified.addresses?.regions[0]));
});

test('the addresses section is the pools: prefixes as the geofeed lists them, entropy per family', () => {
  const a = manifestAddresses(pools);
  assert.equal(a.drawnPer, 'session');
  assert.equal(a.entropyFloorBits, 4);
  assert.deepEqual(a.regions[0], {
    id: 'de',
    country: 'DE',
    prefixes: ['198.51.100.0/27', '2001:db8:de::/64'],
    entropyBits: { ipv4: 4.9, ipv6: 63.99 },
  });
  const inFeed = parseGeofeed(generateGeofeed(pools)).map((e) => e.prefix);
  assert.deepEqual(
    a.regions.flatMap((r) => r.prefixes),
    inFeed,
  );
});

test('the wire format: base64url JSON signed under the manifest context, not the entry context', () => {
  const signed = signManifest(manifestFor(op.kid), op.privateKey, op.kid);
  const payload = Buffer.from(signed.payload, 'base64url');
  const sig = Buffer.from(signed.sig, 'base64url');
  const ctx = (s: string) => Buffer.from(`${s}\0`, 'latin1');
  assert.ok(
    verify(
      null,
      Buffer.concat([ctx('splitrelay-operator-manifest-v1'), payload]),
      op.publicKey,
      sig,
    ),
  );
  assert.ok(
    !verify(null, Buffer.concat([Buffer.from(SIGNATURE_CONTEXT), payload]), op.publicKey, sig),
  );
  assert.ok(!verify(null, payload, op.publicKey, sig));
});

test('a tampered manifest is refused with a generic bad-signature', () => {
  const signed = signManifest(manifestFor(op.kid), op.privateKey, op.kid);
  const bytes = Buffer.from(signed.payload, 'base64url');
  const at = bytes.indexOf('"forwardsClientData":false');
  assert.ok(at > 0);
  bytes.write('"forwardsClientData":true,', at, 'utf8'); // the promise flipped, same length
  const tampered = { ...signed, payload: bytes.toString('base64url') };
  assert.throws(
    () => verifyManifest(tampered, trusted, NOW),
    (err: unknown) =>
      err instanceof DirectoryError &&
      err.code === 'bad-signature' &&
      err.message === 'signature verification failed',
  );
});

test('property: any flipped bit of payload or signature is refused, only ever with a DirectoryError', () => {
  const signed = signManifest(manifestFor(op.kid), op.privateKey, op.kid);
  const payload = Buffer.from(signed.payload, 'base64url');
  const sig = Buffer.from(signed.sig, 'base64url');
  fc.assert(
    fc.property(fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 7 }), (inSig, pos, bit) => {
      const target = Buffer.from(inSig ? sig : payload);
      const i = pos % target.length;
      target[i] = (target[i] as number) ^ (1 << bit);
      const mutated = inSig
        ? { ...signed, sig: target.toString('base64url') }
        : { ...signed, payload: target.toString('base64url') };
      throwsCode(() => verifyManifest(mutated, trusted, NOW), 'bad-signature');
    }),
    { numRuns: 300 },
  );
});

test('an unknown key is refused; another key under a trusted kid is a bad signature', () => {
  const other = operator();
  throwsCode(
    () =>
      verifyManifest(
        signManifest(manifestFor(other.kid), other.privateKey, other.kid),
        trusted,
        NOW,
      ),
    'unknown-key',
  );
  const forged = signManifest(manifestFor(other.kid), other.privateKey, other.kid);
  throwsCode(() => verifyManifest({ ...forged, kid: op.kid }, trusted, NOW), 'bad-signature');
  // Signed by op but claiming to be other's manifest.
  throwsCode(
    () => signManifest(manifestFor(other.kid), op.privateKey, op.kid),
    'operator-mismatch',
  );
  throwsCode(
    () =>
      verifyManifest(
        rawSign(JSON.stringify(manifestFor(other.kid)), op.privateKey, op.kid),
        trusted,
        NOW,
      ),
    'operator-mismatch',
  );
});

test('validity window: issuedAt inclusive, notAfter exclusive', () => {
  const signed = signManifest(
    manifestFor(op.kid, { issuedAt: 1000, notAfter: 2000 }),
    op.privateKey,
    op.kid,
  );
  throwsCode(() => verifyManifest(signed, trusted, 999), 'not-yet-valid');
  assert.equal(verifyManifest(signed, trusted, 1000).issuedAt, 1000);
  throwsCode(() => verifyManifest(signed, trusted, 2000), 'expired');
  assert.throws(() => verifyManifest(signed, trusted, Number.NaN), TypeError);
});

test('the schema is strict: unknown fields, missing promises and role mismatches are malformed', () => {
  const good = manifestFor(op.kid);
  const bad: unknown[] = [
    { ...good, telemetry: 'on' },
    { ...good, logging: { ...good.logging, extra: true } },
    { ...good, addresses: undefined },
    manifestFor(op.kid, { role: 'ingress' }), // an ingress has no egress address pools
    { ...good, forwardsClientData: undefined },
    { ...good, logging: { ...good.logging, fields: ['b', 'a'] } },
    { ...good, software: { ...good.software, buildDigest: 'md5:00' } },
    { ...good, addresses: { ...good.addresses, drawnPer: 'flow' } },
    // The gateway draws per connection, from a region named by its id, and says nothing else.
    { ...good, addresses: { ...good.addresses, gateway: { drawnPer: 'session', region: 'nl' } } },
    { ...good, addresses: { ...good.addresses, gateway: { drawnPer: 'connection' } } },
    {
      ...good,
      addresses: {
        ...good.addresses,
        gateway: { drawnPer: 'connection', region: 'nl', sticky: true },
      },
    },
    { ...good, notAfter: good.issuedAt },
  ];
  for (const m of bad) {
    throwsCode(() => signManifest(m as Manifest, op.privateKey, op.kid), 'malformed');
    const { addresses: _a, ...rest } = m as Manifest;
    const json = JSON.stringify((m as Manifest).addresses === undefined ? rest : m);
    throwsCode(
      () => verifyManifest(rawSign(json, op.privateKey, op.kid), trusted, NOW),
      'malformed',
    );
  }
  const gateway = { drawnPer: 'connection', region: 'nl' } as const;
  const withGateway = { ...good, addresses: { ...good.addresses!, gateway } };
  assert.deepEqual(
    verifyManifest(signManifest(withGateway, op.privateKey, op.kid), trusted, NOW).addresses
      ?.gateway,
    gateway,
  );
  const { addresses: _drop, ...ingress } = manifestFor(op.kid, { role: 'ingress' });
  assert.equal(
    verifyManifest(signManifest(ingress as Manifest, op.privateKey, op.kid), trusted, NOW).role,
    'ingress',
  );
  throwsCode(
    () => verifyManifest(rawSign('{"v":1', op.privateKey, op.kid), trusted, NOW),
    'malformed',
  );
  throwsCode(
    () => verifyManifest({ payload: 'x', sig: 'y', kid: op.kid, more: 1 }, trusted, NOW),
    'malformed',
  );
});

test('a manifest signature can never pass for a directory entry, nor the reverse', () => {
  const entry = {
    v: 1,
    id: 'edge-fra-1',
    operator: op.kid,
    endpoint: 'egress1.cdn.example:8443',
    region: 'eu-central',
    tlsPins: [Buffer.alloc(32, 7).toString('base64')],
    notBefore: NOW - 60,
    notAfter: NOW + 60,
    version: 1,
  } as Entry;
  const signed = signEntry(entry, op.privateKey, op.kid);
  assert.deepEqual(verifyEntry(signed, trusted, NOW), entry);
  throwsCode(
    () =>
      verifyEntry(
        { ...signed, sig: signManifest(manifestFor(op.kid), op.privateKey, op.kid).sig },
        trusted,
        NOW,
      ),
    'bad-signature',
  );
  throwsCode(() => verifyManifest(signed, trusted, NOW), 'bad-signature');
});
