/**
 * The issuer's key announcements on a real nats-server running deploy/nats's own accounts:
 * they arrive on their subject inside the INGRESS account, pass the schema, reach an ingress
 * and nobody outside the account; SIGHUP re-reads the key list and announces at once; and the
 * `issuer` user may publish nothing else (permission violations observed, not assumed).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import {
  ISSUER_KEYS_WILDCARD,
  connectControlPlane,
  issuerKeysMessageSchema,
  issuerKeysSubject,
  type ControlPlaneClient,
  type IssuerKeysMessage,
} from '@splitrelay/control-plane';
import {
  TEST_CREDENTIALS,
  connectAs,
  startNats,
  watchPermissionErrors,
  type NatsServer,
} from '@splitrelay/nats-kit';
import { ISSUER_DIRECTORY_PATH, base64url, fromBase64url } from '@splitrelay/privacy-pass';
import {
  ISSUER_NAME,
  baseConfig,
  h2Request,
  makeFixture,
  nowSeconds,
  startIssuerProcess,
  type Fixture,
  type RunningIssuerProcess,
  type TestKey,
} from './helpers.ts';

type Connection = Awaited<ReturnType<typeof connectAs>>;

/** Every message on a subject, decoded, for the test to wait on. */
function record(nc: Connection, subject: string) {
  const got: Array<{ subject: string; json: unknown }> = [];
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err === null) got.push({ subject: msg.subject, json: JSON.parse(msg.string()) });
    },
  });
  return {
    got,
    sub,
    async until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

describe('issuer key announcements on NATS', () => {
  let nats: NatsServer;
  let fixture: Fixture;
  let first: TestKey;
  let second: TestKey;
  let configFile: string;
  let config: Record<string, unknown>;
  let issuer: RunningIssuerProcess;
  let ingress: Connection;
  let auditor: Connection;
  let egress: Connection;
  let ingressClient: ControlPlaneClient;
  let seen: ReturnType<typeof record>;
  let auditorSeen: ReturnType<typeof record>;
  const validated: IssuerKeysMessage[] = [];

  before(async () => {
    nats = await startNats();
    fixture = await makeFixture();
    first = await fixture.newKey('first');
    second = await fixture.newKey('second', [first]);
    [ingress, auditor, egress] = await Promise.all([
      connectAs('ingress', nats.url),
      connectAs('auditor', nats.url),
      connectAs('egress', nats.url),
    ]);
    // The ingress account's own view, and through the shell that validates every message.
    seen = record(ingress, ISSUER_KEYS_WILDCARD);
    auditorSeen = record(auditor, 'splitrelay.>');
    ingressClient = await connectControlPlane({
      servers: nats.url,
      user: TEST_CREDENTIALS.ingress.user,
      pass: TEST_CREDENTIALS.ingress.pass,
      name: 'ingress-1',
    });
    ingressClient.subscribe('issuer-keys', (d) => validated.push(d.message));
    await Promise.all([ingress.flush(), auditor.flush(), ingressClient.flush()]);

    const now = nowSeconds();
    config = {
      ...baseConfig(fixture, [
        { privateKey: first.file, notBefore: now - 60, notAfter: now + 86_400 },
      ]),
      controlPlane: {
        servers: [nats.url],
        user: TEST_CREDENTIALS.issuer.user,
        password: TEST_CREDENTIALS.issuer.pass,
        issuerId: 'issuer-1',
        // Long, so every announcement after the first is one the test caused.
        announceMs: 600_000,
      },
    };
    configFile = await fixture.writeConfig('issuer', config);
    issuer = await startIssuerProcess(configFile);
  });

  after(async () => {
    await issuer?.stop();
    await ingressClient?.close();
    await Promise.all([ingress, auditor, egress].map((nc) => nc?.close()));
    await nats?.stop();
    await fixture?.cleanup();
  });

  it('announces the keys on its subject inside the INGRESS account, schema-valid', async () => {
    await seen.until(() => seen.got.length >= 1 && validated.length >= 1, 'the first announcement');
    const [message] = seen.got;
    assert.equal(message!.subject, issuerKeysSubject('issuer-1'));
    assert.equal(message!.subject, 'splitrelay.private.ingress.issuer-keys.issuer-1');
    const parsed = issuerKeysMessageSchema.parse(message!.json);
    assert.equal(parsed.issuerId, 'issuer-1');
    assert.equal(parsed.issuerName, ISSUER_NAME);
    assert.deepEqual(
      parsed.keys.map((k) => k.tokenKey),
      [base64url(first.tokenKey.spki)],
    );
    assert.equal(parsed.keys[0]!.tokenType, 2);
    assert.ok(parsed.keys[0]!.notBefore < nowSeconds() && nowSeconds() < parsed.keys[0]!.notAfter);
    assert.deepEqual(validated[0], parsed);
    assert.equal(ingressClient.stats().dropped, 0);
    assert.equal(issuer.ready.issuerId, 'issuer-1');
  });

  it('re-reads the key list on SIGHUP and announces the new set at once', async () => {
    const before = seen.got.length;
    const now = nowSeconds();
    // The rotation step: the next key joins with a window that overlaps the current one.
    await writeFile(
      configFile,
      JSON.stringify({
        ...config,
        keys: [
          { privateKey: first.file, notBefore: now - 60, notAfter: now + 86_400 },
          { privateKey: second.file, notBefore: now - 30, notAfter: now + 2 * 86_400 },
        ],
      }),
    );
    issuer.child.kill('SIGHUP');
    await seen.until(() => seen.got.length > before, 'the announcement after SIGHUP', 5000);
    const parsed = issuerKeysMessageSchema.parse(seen.got.at(-1)!.json);
    assert.deepEqual(
      parsed.keys.map((k) => k.tokenKey),
      [base64url(second.tokenKey.spki), base64url(first.tokenKey.spki)],
    );
    await issuer.waitForEvent('reloaded');
    const dir = await h2Request(issuer, fixture.caPem, ISSUER_DIRECTORY_PATH);
    const listed = (JSON.parse(dir.text) as { 'token-keys': Array<{ 'token-key': string }> })[
      'token-keys'
    ].map((k) => base64url(fromBase64url(k['token-key'])));
    assert.deepEqual(listed, [base64url(second.tokenKey.spki), base64url(first.tokenKey.spki)]);
  });

  it('keeps its keys when a reload finds a broken key file', async () => {
    const before = seen.got.length;
    await writeFile(second.file, 'not a key');
    issuer.child.kill('SIGHUP');
    const failed = await issuer.waitForEvent('reload failed');
    assert.match(String(failed.reason), /keys\.1: .* is not a token key/);
    const dir = await h2Request(issuer, fixture.caPem, ISSUER_DIRECTORY_PATH);
    assert.equal(JSON.parse(dir.text)['token-keys'].length, 2);
    // Nothing was announced for the failed reload.
    await ingress.flush();
    assert.equal(seen.got.length, before);
  });

  it('reaches nobody outside the INGRESS account', async () => {
    await Promise.all([auditor.flush(), ingress.flush()]);
    assert.ok(seen.got.length >= 2);
    assert.deepEqual(
      auditorSeen.got.filter((m) => m.subject.includes('issuer-keys')),
      [],
    );
    const violations = watchPermissionErrors(egress);
    egress.subscribe(ISSUER_KEYS_WILDCARD);
    await violations.waitFor({ operation: 'subscription', subject: ISSUER_KEYS_WILDCARD });
  });

  it('lets the issuer user publish nothing but its keys', async () => {
    const nc = await connectAs('issuer', nats.url);
    try {
      const violations = watchPermissionErrors(nc);
      const ingressHealth = record(ingress, 'splitrelay.health.ingress.>');
      const privateOther = record(ingress, 'splitrelay.private.ingress.spent.>');
      await ingress.flush();
      for (const subject of [
        'splitrelay.health.ingress.x',
        'splitrelay.private.ingress.spent.x',
        'splitrelay.trunk.ingress-cert.x',
        'splitrelay.directory.entry.egress-1',
        '$KV.spent.x',
      ]) {
        nc.publish(subject, 'spoofed');
        const err = await violations.waitFor({ operation: 'publish', subject });
        assert.match(err.message, /Permissions Violation for Publish/);
      }
      for (const subject of ['splitrelay.private.ingress.>', 'splitrelay.>']) {
        nc.subscribe(subject);
        await violations.waitFor({ operation: 'subscription', subject });
      }
      await Promise.all([nc.flush(), ingress.flush()]);
      assert.deepEqual(ingressHealth.got, []);
      assert.deepEqual(privateOther.got, []);
      ingressHealth.sub.unsubscribe();
      privateOther.sub.unsubscribe();
    } finally {
      await nc.close();
    }
  });
});
