/**
 * The separation claim again, with the features that add parties and messages: Privacy Pass
 * (an issuer that sees the subscriber, tokens redeemed at the ingress over both carriers) and
 * the NATS control plane (each relay reads the other operator's messages). The same clean
 * checks and leaky controls as privacy.test.ts (see separation.ts), plus what each feature
 * adds: tokens end at the ingress, the issuer never learns a target, and what a relay reads
 * from NATS is part of what it learns.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { headsOf, type Capture } from '@splitrelay/capture';
import { connectAs, startNats, type NatsServer } from '@splitrelay/nats-kit';
import { decodeToken, formatTokenHeader } from '@splitrelay/privacy-pass';
import { eventually } from '@splitrelay/test-kit/eventually';
import { tlsExchange } from '@splitrelay/test-kit/raw';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { issuerPost, tokensFromIssuer } from '@splitrelay/test-kit/tokens';
import { ADDR, INGRESS_NAME, ISSUER_NAME, type World } from '@splitrelay/test-kit/world';
import {
  LEAK_CLIENT,
  bypass,
  cleanRunChecks,
  clientOf,
  describeFindings,
  formsOf,
  httpsGetOver,
  leakClientOf,
  leakTargetOf,
  leakyControlChecks,
  leakyTrunk,
  leaksIn,
  PAGE,
  readFromPeer,
  redeemed,
  tokenIdentities,
  runSetup,
  targetOf,
  throughClientApp,
  withTimeout,
  type Run,
  type Target,
} from './separation.ts';

const T = { timeout: 120_000 };
const ca = (world: World): string => readFileSync(world.deployment.caCert, 'utf8');

const connectHeads = (c: Capture) =>
  headsOf(c, 'http1-connect').filter((h) => h.target === 'egress-1:443').length;
const egressFlows = (p: Run['before']) =>
  headsOf(p['egress-egress-1']!.capture, 'h2-request').some((h) =>
    h.target?.startsWith('/.well-known/masque/udp/'),
  );

describe('with Privacy Pass: an issuer, and a token per session over either carrier', T, () => {
  let run: Run;
  let credential: string;
  /** The token a leaky ingress forwards to the egress (fresh: in no capture before). */
  let forwarded: ReturnType<typeof decodeToken>;
  before(async () => {
    run = await runSetup({
      world: { privacyPass: true, clientTokens: { batchSize: 4, refillBelow: 1 } },
      parties: (world) => ({
        ingress: world.ingress,
        'egress-egress-1': world.egresses[0]!,
        issuer: world.issuer!,
      }),
      async traffic(world, target: Target) {
        credential = world.deployment.issuer!.credential;
        const moved = await throughClientApp(world, target);
        // The SDK's wallet over the WebSocket carrier: its tokens travel in the upgrade head.
        const client = sdkClient(world, {
          carrier: 'websocket',
          tokens: {
            issuer: world.issuerUrl!,
            issuerCa: ca(world),
            issuerServername: ISSUER_NAME,
            credential,
            localAddress: ADDR.client,
          },
        });
        try {
          const flow = await client.connect({ host: target.name, port: target.port });
          assert.equal(await httpsGetOver(flow, target, ca(world)), PAGE);
          const udp = await client.openUdp({ host: target.name, port: target.port });
          const echoed = new Promise<Buffer>((r) => udp.once('datagram', r));
          udp.send(Buffer.from('over the websocket carrier'));
          await withTimeout(echoed, 10_000, 'no UDP echo');
          udp.close();
        } finally {
          client.close();
        }
        return moved + PAGE.length;
      },
      settled: (p) =>
        redeemed(p.ingress!.capture).some((r) => r.kind === 'http1-upgrade') &&
        connectHeads(p.ingress!.capture) > 0 &&
        egressFlows(p),
      async leak(world, leak) {
        // A leaky client names the target to the issuer when it asks for tokens...
        await issuerPost(world, new Uint8Array([1]), {
          authorization: `Bearer ${credential}`,
          'content-type': 'application/private-token-request',
          'x-leak': `${leak.name}:${leak.port}`,
        });
        // ...and to the ingress beside its token, in hex.
        const endpoint = Buffer.from([
          ...leak.ip.split('.').map(Number),
          leak.port >> 8,
          leak.port & 255,
        ]);
        await tlsExchange(
          { host: ADDR.ingress, port: world.ingressPort, servername: INGRESS_NAME, ca: ca(world) },
          `CONNECT egress-1:443 HTTP/1.1\r\nHost: egress-1:443\r\n` +
            `Proxy-Authorization: PrivateToken token="${endpoint.toString('hex')}"\r\n\r\n`,
          2000,
        );
        // A leaky ingress passes a client's token on to the egress.
        const [token] = await tokensFromIssuer(world, 1);
        forwarded = decodeToken(token!);
        await leakyTrunk(world, { 'proxy-authorization': formatTokenHeader(token!) });
        await bypass(world, LEAK_CLIENT);
      },
    });
  });
  after(async () => {
    await run?.world.stop();
    await run?.world.cleanup();
  });

  cleanRunChecks(() => run, { what: 'CONNECT naming egress-1', heads: connectHeads });
  leakyControlChecks(() => run, {
    ingress: { identities: leakTargetOf, forms: ['ipv4+port/hex'] },
    issuer: { identities: leakTargetOf, forms: ['name:port/text', 'port-in-authority/text'] },
    'egress-egress-1': {
      identities: () => [...leakClientOf(), ...tokenIdentities(forwarded, 0)],
      forms: ['dotted-quad/text', 'bytes/base64'],
    },
  });

  test('tokens end at the ingress: over both carriers there, at the egress in no form', () => {
    const ingress = run.after.ingress!;
    const tokens = redeemed(ingress.capture);
    // Positive controls: tokens came in the CONNECT heads and in the WebSocket upgrade, and the
    // same search that must find nothing at the egress finds each of them at the ingress.
    assert.ok(
      tokens.some((t) => t.kind === 'http1-connect'),
      'a token in a CONNECT head',
    );
    assert.ok(
      tokens.some((t) => t.kind === 'http1-upgrade'),
      'a token in an upgrade head',
    );
    const identities = tokens.flatMap((t, i) => tokenIdentities(t.token, i));
    const atIngress = new Set(leaksIn(ingress, identities).map((f) => f.identity));
    assert.equal(atIngress.size, identities.length, 'every nonce and authenticator found there');
    const atEgress = [
      ...leaksIn(run.after['egress-egress-1']!, [
        ...identities,
        { kind: 'text', text: credential, label: 'the subscriber credential' },
      ]),
      // No token header at all, in the clean traffic (the leaky ingress forwards one later).
      ...leaksIn(run.before['egress-egress-1']!, [
        { kind: 'text', text: 'PrivateToken', label: 'a token header' },
      ]),
    ];
    assert.deepEqual(atEgress, [], describeFindings(atEgress));
  });

  test('the issuer learns the subscriber, never a target; the ingress never the credential', () => {
    const issuer = run.after.issuer!;
    // Positive controls: the issuer read the clients' requests (the credential, as it may).
    assert.ok(headsOf(issuer.capture, 'http1-request', 'h2-request').length >= 2);
    assert.ok(leaksIn(issuer, [{ kind: 'text', text: credential }]).length > 0);
    const targetAtIssuer = leaksIn(issuer, targetOf(run.target));
    assert.deepEqual(targetAtIssuer, [], describeFindings(targetAtIssuer));
    const credentialAtIngress = leaksIn(run.after.ingress!, [{ kind: 'text', text: credential }]);
    assert.deepEqual(credentialAtIngress, [], describeFindings(credentialAtIngress));
  });
});

describe('with the NATS control plane: what each relay reads from NATS is searched too', T, () => {
  let nats: NatsServer;
  let run: Run;
  /** Bytes a relay read from the NATS server. */
  const fromNats = (party: Run['after'][string]) => readFromPeer(party, '127.0.7.1');
  const natsText = (party: Run['after'][string]) =>
    [...party.capture.streams.values()]
      .filter((s) => s.remoteAddress === '127.0.7.1')
      .map((s) => s.bytes.toString('latin1'))
      .join('');

  before(async () => {
    nats = await startNats({ host: '127.0.7.1' });
    run = await runSetup({
      world: { natsServers: [nats.url], announceTrunkCert: true, heartbeatMs: 300 },
      parties: (world) => ({ ingress: world.ingress, 'egress-egress-1': world.egresses[0]! }),
      traffic: throughClientApp,
      settled: (p) =>
        connectHeads(p.ingress!.capture) > 0 &&
        egressFlows(p) &&
        natsText(p.ingress!).includes('splitrelay.health.egress.egress-1') &&
        natsText(p['egress-egress-1']!).includes('splitrelay.trunk.ingress-cert.ingress-1'),
      async leak(world, leak) {
        // A leaky egress publishes a target in its heartbeat: the ingress reads it, then drops it.
        const egress = await connectAs('egress', nats.url);
        egress.publish(
          'splitrelay.health.egress.egress-1',
          JSON.stringify({
            v: 1,
            id: 'egress-1',
            status: 'up',
            lastTarget: `${leak.name}:${leak.port}`,
          }),
        );
        await egress.flush();
        await egress.close();
        // A leaky ingress publishes a client's address with its trunk certificate.
        const ingress = await connectAs('ingress', nats.url);
        ingress.publish(
          'splitrelay.trunk.ingress-cert.ingress-1',
          JSON.stringify({ v: 1, id: 'ingress-1', lastClient: LEAK_CLIENT }),
        );
        await ingress.flush();
        await ingress.close();
        for (const app of [world.ingress, world.egresses[0]!])
          await eventually(`${app.name} to drop the leaky message`, () =>
            app.lines.some((l) => l.includes('control message dropped')),
          );
      },
    });
  });
  after(async () => {
    await run?.world.stop();
    await run?.world.cleanup();
    await nats?.stop();
  });

  cleanRunChecks(() => run, { what: 'CONNECT naming egress-1', heads: connectHeads });
  leakyControlChecks(() => run, {
    ingress: { identities: leakTargetOf, forms: ['name:port/text'] },
    'egress-egress-1': { identities: () => clientOf(LEAK_CLIENT), forms: ['dotted-quad/text'] },
  });

  test("positive controls: each relay read the other operator's messages from NATS", () => {
    const ingress = run.after.ingress!;
    const egress = run.after['egress-egress-1']!;
    assert.ok(fromNats(ingress) > 0 && fromNats(egress) > 0);
    for (const subject of [
      'splitrelay.directory.entry.egress-1',
      'splitrelay.health.egress.egress-1',
    ])
      assert.ok(natsText(ingress).includes(subject), `the ingress read ${subject}`);
    assert.ok(natsText(egress).includes('splitrelay.trunk.ingress-cert.ingress-1'));
    // The egress's signed entry names its own address: the search finds it where it belongs.
    assert.ok(formsOf(leaksIn(ingress, clientOf(ADDR.egress(0)))).has('dotted-quad/text'));
  });
});
