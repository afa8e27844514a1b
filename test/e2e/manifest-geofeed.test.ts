/**
 * What relays publish about themselves, on real processes. The egress serves an RFC 8805
 * geofeed of exactly its configured prefixes at the URL its signed directory entry names.
 * Each relay serves its operator manifest, signed by its operator's key, built from the very
 * config it runs with: an auditor's fetch verifies it, a tampered copy is refused, and a relay
 * whose config no longer matches its manifest refuses to start. Over NATS, the auditor
 * account receives both manifests and verifies them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DirectoryError,
  keyIdOf,
  MANIFEST_PATH,
  readSignedEntries,
  verifyEntry,
  type Entry,
} from '@splitrelay/directory';
import { connectControlPlane } from '@splitrelay/control-plane';
import { parseGeofeed, verifyManifest } from '@splitrelay/egress-addresses';
import { buildDigest, fetchManifest, receiveManifest } from '@splitrelay/operator-manifest';
import { startNats, TEST_CREDENTIALS, type NatsServer } from '@splitrelay/nats-kit';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';

const T = { timeout: 90_000 };

const ADDRESSES = {
  defaultRegion: 'nl',
  entropyFloorBits: 4,
  regions: [
    { id: 'nl', country: 'NL', ipv4: ['127.0.10.0/27', '127.0.10.64/28'] },
    {
      id: 'de-munich',
      country: 'DE',
      subdivision: 'DE-BY',
      city: 'München',
      geohash: 'u281z',
      ipv4: ['127.0.11.0/27'],
    },
  ],
};
const egressExtra = { localAddress: undefined, addresses: ADDRESSES };
const appDir = (app: string): string =>
  fileURLToPath(new URL(`../../apps/${app}/`, import.meta.url));
const pem = (file: string): string => readFileSync(file, 'utf8');
/** An operator public key file as the keys one trusts, by its key id. */
const trust = (file: string): Record<string, string> => ({ [keyIdOf(pem(file))]: pem(file) });

/** Flips one character of the payload: the bytes the signature covers. */
function tampered(signed: { payload: string; sig: string; kid: string }) {
  const bytes = Buffer.from(signed.payload, 'base64url');
  const text = bytes.toString('utf8').replace('"logsDays":7', '"logsDays":1');
  assert.notEqual(text, bytes.toString('utf8'));
  return { ...signed, payload: Buffer.from(text, 'utf8').toString('base64url') };
}

describe('geofeed and manifests over HTTP', T, () => {
  let world: World;
  let entry: Entry;

  before(async () => {
    world = await startWorld({ manifests: true, egressExtra, logLevel: 'info' });
    const now = Math.floor(Date.now() / 1000);
    const signed = readSignedEntries(world.deployment.directoryFile)[0];
    entry = verifyEntry(signed, trust(world.deployment.operatorPublicKey), now);
  });
  after(async () => {
    await world?.stop();
    await world?.cleanup();
  });

  test("the directory entry names the geofeed and manifest URLs and the pools' locations", () => {
    assert.equal(entry.geofeed, `${world.egressEndpoints['egress-1']}/geofeed.csv`);
    assert.equal(entry.manifest, `${world.egressEndpoints['egress-1']}${MANIFEST_PATH}`);
    assert.deepEqual(entry.serves, ['DE', 'DE-BY', 'NL']);
  });

  test('the geofeed parses as RFC 8805 and lists exactly the configured prefixes', async () => {
    const res = await fetch(entry.geofeed!);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
    const feed = parseGeofeed(new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual(
      feed.map((e) => [e.prefix, e.country, e.region, e.city, e.postalCode]),
      [
        ['127.0.10.0/27', 'NL', undefined, undefined, undefined],
        ['127.0.10.64/28', 'NL', undefined, undefined, undefined],
        ['127.0.11.0/27', 'DE', 'DE-BY', 'München', undefined],
      ],
    );
    // The operator's publishing command prints the same file.
    const printed = spawnSync(
      process.execPath,
      [
        `${appDir('egress')}src/geofeed.ts`,
        '--config',
        `${world.deployment.dir}/egress-egress-1.json`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(printed.status, 0, printed.stderr);
    assert.equal(printed.stdout, await (await fetch(entry.geofeed!)).text());
  });

  test("the egress manifest verifies with the operator key and states the running config's settings", async () => {
    const keys = trust(world.deployment.operatorPublicKey);
    const { manifest, signed } = await fetchManifest(entry.manifest!, keys);
    assert.equal(manifest.role, 'egress');
    assert.equal(manifest.relayId, 'egress-1');
    assert.equal(manifest.forwardsClientData, false);
    assert.deepEqual(manifest.retention, { logsDays: 7, metricsDays: 30 });
    assert.equal(manifest.logging.level, 'info');
    assert.equal(manifest.logging.clientAddresses, false);
    assert.ok(!manifest.logging.fields.includes('clientAddr'));
    assert.deepEqual(
      manifest.addresses?.regions.map((r) => [r.id, r.prefixes, r.entropyBits]),
      [
        ['nl', ['127.0.10.0/27', '127.0.10.64/28'], { ipv4: 5.45 }],
        ['de-munich', ['127.0.11.0/27'], { ipv4: 4.9 }],
      ],
    );
    assert.equal(manifest.addresses?.drawnPer, 'session');
    // The health endpoint states the same entropy per draw.
    const health = (await (await fetch(`${world.egressEndpoints['egress-1']}/health`)).json()) as {
      addresses: unknown;
    };
    assert.deepEqual(health.addresses, manifest.addresses);
    // The build it names is the code this checkout runs.
    assert.equal(manifest.software.buildDigest, buildDigest(appDir('egress')));
    // The signed file, byte for byte.
    assert.deepEqual(
      signed,
      JSON.parse(readFileSync(`${world.deployment.dir}/manifest-egress-1.json`, 'utf8')),
    );
  });

  test('the ingress serves its own manifest on its client listener, signed by its operator', async () => {
    const url = `https://${ADDR.ingress}:${world.ingressPort}${MANIFEST_PATH}`;
    const ca = pem(world.deployment.caCert);
    const { manifest } = await fetchManifest(
      url,
      trust(world.deployment.ingressOperatorPublicKey),
      { ca },
    );
    assert.equal(manifest.role, 'ingress');
    assert.equal(manifest.relayId, 'ingress-1');
    assert.equal(manifest.addresses, undefined);
    assert.equal(manifest.logging.targets, false);
    assert.equal(manifest.software.buildDigest, buildDigest(appDir('ingress')));
    // The egress operator's key does not vouch for the ingress operator's promises.
    await assert.rejects(
      fetchManifest(url, trust(world.deployment.operatorPublicKey), { ca }),
      (err: unknown) => err instanceof DirectoryError && err.code === 'unknown-key',
    );
  });

  test('a tampered manifest is refused, whatever carries it', async () => {
    const keys = trust(world.deployment.operatorPublicKey);
    const { signed } = await fetchManifest(entry.manifest!, keys);
    const now = Math.floor(Date.now() / 1000);
    assert.throws(
      () => verifyManifest(tampered(signed), keys, now),
      (err: unknown) =>
        err instanceof DirectoryError &&
        err.code === 'bad-signature' &&
        err.message === 'signature verification failed',
    );
    // A changed signature byte (not the last one: an Ed25519 S is below 2^253, so its top
    // byte is often zero already and 'AA' at the end would change nothing).
    const flipped = signed.sig[10] === 'A' ? 'B' : 'A';
    const sig = `${signed.sig.slice(0, 10)}${flipped}${signed.sig.slice(11)}`;
    assert.throws(
      () => verifyManifest({ ...signed, sig }, keys, now),
      (err: unknown) => err instanceof DirectoryError && err.code === 'bad-signature',
    );
  });

  test('a relay whose config no longer matches its signed manifest refuses to start, and says how', () => {
    const file = `${world.deployment.dir}/egress-egress-1.json`;
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const drifted = `${world.deployment.dir}/egress-drifted.json`;
    writeFileSync(
      drifted,
      JSON.stringify({
        ...config,
        listen: `${ADDR.egress(0)}:0`,
        health: undefined,
        log: { level: 'debug', statsIntervalMs: 1000, flows: true },
        manifest: { ...(config.manifest as object), retention: { logsDays: 90, metricsDays: 30 } },
      }),
    );
    const res = spawnSync(
      process.execPath,
      [`${appDir('egress')}src/main.js`, '--config', drifted],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.equal(res.status, 1);
    for (const line of [
      /logging\.level: the manifest says "info", this relay runs with "debug"/,
      /logging\.perFlowRecords: the manifest says false, this relay runs with true/,
      /logging\.targets: the manifest says false, this relay runs with true/,
      /retention\.logsDays: the manifest says 7, this relay runs with 90/,
      /sign it again for this config: node apps\/egress\/src\/sign-manifest\.ts/,
    ])
      assert.match(res.stderr, line);
    // A tampered file is refused at start too.
    const signedFile = `${world.deployment.dir}/manifest-egress-1.json`;
    const signed = JSON.parse(readFileSync(signedFile, 'utf8'));
    const forged = `${world.deployment.dir}/manifest-forged.json`;
    writeFileSync(forged, JSON.stringify(tampered(signed)));
    writeFileSync(
      drifted,
      JSON.stringify({
        ...config,
        listen: `${ADDR.egress(0)}:0`,
        health: undefined,
        manifest: { ...(config.manifest as object), file: forged },
      }),
    );
    const refused = spawnSync(
      process.execPath,
      [`${appDir('egress')}src/main.js`, '--config', drifted],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /the manifest does not verify: signature verification failed/);
  });
});

describe('manifests on the control plane, read by the auditor account', T, () => {
  let nats: NatsServer;
  let world: World;

  before(async () => {
    nats = await startNats({ host: '127.0.7.1' });
    world = await startWorld({
      manifests: true,
      egressExtra,
      natsServers: [nats.url],
      logLevel: 'info',
    });
  });
  after(async () => {
    await world?.stop();
    await world?.cleanup();
    await nats?.stop();
  });

  test('both manifests arrive on their subjects and verify; each only with its own operator key', async () => {
    const auditor = await connectControlPlane({
      servers: [nats.url],
      user: TEST_CREDENTIALS.auditor.user,
      pass: TEST_CREDENTIALS.auditor.pass,
      name: 'auditor',
    });
    try {
      const egressKeys = trust(world.deployment.operatorPublicKey);
      const ingressKeys = trust(world.deployment.ingressOperatorPublicKey);
      const [egress, ingress] = await Promise.all([
        receiveManifest(auditor, 'egress', 'egress-1', egressKeys),
        receiveManifest(auditor, 'ingress', 'ingress-1', ingressKeys),
      ]);
      assert.equal(egress.manifest.role, 'egress');
      assert.equal(ingress.manifest.role, 'ingress');
      assert.equal(ingress.manifest.tokens.doubleSpend, 'none');
      // What NATS carried is what the relay serves over HTTP.
      const served = await fetchManifest(
        `${world.egressEndpoints['egress-1']}${MANIFEST_PATH}`,
        egressKeys,
      );
      assert.deepEqual(egress.signed, served.signed);
      // The wrong operator's key: every message is refused, none accepted.
      const refused: string[] = [];
      await assert.rejects(
        receiveManifest(auditor, 'egress', 'egress-1', ingressKeys, {
          timeoutMs: 2500,
          onRefused: (reason) => refused.push(reason),
        }),
        /no verified manifest/,
      );
      assert.ok(refused.length > 0 && refused.every((r) => /unknown key/.test(r)), refused.join());
    } finally {
      await auditor.close();
    }
  });
});
