/**
 * Privacy Pass end to end, with real processes: an issuer app, two ingress instances sharing
 * the spent-token bucket in the ingress operator's NATS account, an egress, and the client
 * app fetching tokens in batches. Every session needs one token; bad, foreign, expired and
 * replayed tokens are refused with their reason; and what the issuer observed never links
 * to what the ingress observed (with a leaky setup that the same check must catch).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startApp,
  records,
  freePort,
  listenPort,
  type RunningApp,
} from '@splitrelay/local-deployment';
import { startNats, type NatsServer } from '@splitrelay/nats-kit';
import {
  base64url,
  decodeChallenge,
  formatChallengeHeader,
  formatTokenHeader,
  generateIssuerKeyPem,
  loadIssuerKey,
  parseChallengeHeader,
  type IssuerKey,
} from '@splitrelay/privacy-pass';
import { run } from '@splitrelay/test-kit/run';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { TokenWallet, type TokenWalletOptions } from '@splitrelay/sdk';
import { tlsExchange } from '@splitrelay/test-kit/raw';
import { eventually } from '@splitrelay/test-kit/eventually';
import {
  mintToken,
  tokensFromIssuer,
  issuerPost,
  worldChallenge,
} from '@splitrelay/test-kit/tokens';
import { RelayError } from '@splitrelay/errors';
import { captureLaunch, headsOf } from '@splitrelay/capture';
import {
  leaksIn,
  leakyTrunk,
  partyOf,
  redeemed,
  tokenIdentities,
  type Party,
} from './separation.ts';
import {
  ADDR,
  INGRESS_NAME,
  ISSUER_NAME,
  TARGET_NAME,
  startWorld,
  untilIngressKnows,
  type World,
  worldHttpsTarget,
} from '@splitrelay/test-kit/world';

const SECOND_INGRESS = '127.0.2.2';
let nats: NatsServer;
let world: World;
let second: RunningApp;
let secondPort: number;
let target: Awaited<ReturnType<typeof worldHttpsTarget>>;
let expiredKey: IssuerKey;
let expiredTokenKey: string;

before(async () => {
  nats = await startNats({ host: '127.0.7.1' });
  // A key the ingress is told about whose window has closed: its tokens are "expired".
  const expired = generateIssuerKeyPem();
  expiredKey = await loadIssuerKey(expired.privateKeyPem);
  expiredTokenKey = base64url(expired.tokenKey);
  const now = Math.floor(Date.now() / 1000);
  world = await startWorld({
    natsServers: [nats.url],
    privacyPass: true,
    capture: true,
    logLevel: 'info',
    ingressAdmission: {
      privacyPass: {
        issuerName: ISSUER_NAME,
        origin: INGRESS_NAME,
        keys: [{ tokenKey: expiredTokenKey, notBefore: now - 7200, notAfter: now - 3600 }],
      },
    },
    clientTokens: { batchSize: 8, refillBelow: 2 },
  });
  target = await worldHttpsTarget(world);
  // A second instance of the same ingress: same operator, same NATS account and bucket.
  const healthPort = await freePort(SECOND_INGRESS);
  const config = {
    ...world.ingressConfig,
    listen: `${SECOND_INGRESS}:0`,
    trunk: { ...(world.ingressConfig.trunk as object), localAddress: SECOND_INGRESS },
    health: { listen: `${SECOND_INGRESS}:${healthPort}` },
    controlPlane: { ...(world.ingressConfig.controlPlane as object), ingressId: 'ingress-2' },
  };
  // Captured like the first: a token redeemed there must not link either.
  second = await startApp(
    'ingress',
    await world.deployment.writeConfig('ingress-2', config),
    captureLaunch(join(world.deployment.dir, 'ingress-2.capture')),
  );
  secondPort = listenPort(second);
  await untilIngressKnows(healthPort, ['egress-1'], true, SECOND_INGRESS);
});

after(async () => {
  await second?.stop();
  await target?.close();
  await world?.stop();
  await world?.cleanup();
  await nats?.stop();
});

const ca = (): string => readFileSync(world.deployment.caCert, 'utf8');

/** A raw CONNECT to an ingress instance; the answer's status line and headers. */
async function connectWith(
  authorization: string | undefined,
  ingress: { host: string; port: number } = { host: ADDR.ingress, port: world.ingressPort },
): Promise<{ status: number; head: string; headers: Map<string, string> }> {
  const text = await tlsExchange(
    { ...ingress, servername: INGRESS_NAME, ca: ca(), localAddress: ADDR.client },
    `CONNECT egress-1:443 HTTP/1.1\r\nHost: egress-1:443\r\n` +
      (authorization === undefined ? '' : `Proxy-Authorization: ${authorization}\r\n`) +
      '\r\n',
    1500,
  );
  const head = text.slice(0, text.indexOf('\r\n\r\n') >>> 0);
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(head.split(' ')[1]), head, headers };
}

const detailsOf = (headers: Map<string, string>): string | undefined =>
  /details="([^"]*)"/.exec(headers.get('proxy-status') ?? '')?.[1];

/** A wallet of this world's subscriber, as the SDK's users would make one. */
const worldWallet = (extra: Partial<TokenWalletOptions> = {}): TokenWallet =>
  new TokenWallet({
    issuer: world.issuerUrl!,
    issuerCa: ca(),
    issuerServername: ISSUER_NAME,
    credential: world.deployment.issuer!.credential,
    localAddress: ADDR.client,
    ...extra,
  });

test('the client app fetches tokens from the issuer and its tunnels work', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await run('curl', [
      '--silent',
      '--show-error',
      '--max-time',
      '15',
      '--cacert',
      world.deployment.caCert,
      '--proxy',
      `socks5h://127.0.0.1:${world.socksPort}`,
      `https://${TARGET_NAME}:${target.port}/`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'hello from the target\n');
  }
  // The issuer counts in its stats line (every second here). The client's one session took a
  // token of the urgent pair fetched at start; the one left is under refillBelow (2), so a
  // batch of 8 follows in the background: 10 in all, across one or more stats lines.
  const issued = (): number =>
    records(world.issuer!)
      .filter((r) => r.event === 'stats')
      .reduce((sum, r) => sum + Number(r.issued), 0);
  await eventually(
    () => `10 tokens issued (${issued()} so far)`,
    () => issued() >= 10,
    {
      timeoutMs: 5000,
    },
  );
  assert.ok(issued() >= 10 && (issued() - 2) % 8 === 0, `the issuer issued ${issued()} tokens`);
});

test('without a token the ingress answers 407 with a PrivateToken challenge', async () => {
  const { status, headers } = await connectWith(undefined);
  assert.equal(status, 407);
  assert.equal(detailsOf(headers), 'a Privacy Pass token is required');
  const offers = parseChallengeHeader(headers.get('proxy-authenticate') ?? '');
  assert.equal(offers.length, 1);
  const challenge = decodeChallenge(offers[0]!.challenge);
  assert.equal(challenge.issuerName, ISSUER_NAME);
  assert.deepEqual([...challenge.originInfo], [INGRESS_NAME]);
  assert.equal(challenge.redemptionContext.length, 0);
  // The key it names is the issuer's current one (announced over NATS), never the expired one.
  assert.equal(base64url(offers[0]!.tokenKey), world.deployment.issuer!.tokenKey);
});

test('malformed, unknown-key, expired-key and forged tokens are refused with their reason', async () => {
  const stranger = await loadIssuerKey(generateIssuerKeyPem().privateKeyPem);
  const forged = (await tokensFromIssuer(world, 1))[0]!;
  forged[forged.length - 1]! ^= 0x55;
  const cases: [string, string][] = [
    ['PrivateToken token="bm90IGEgdG9rZW4"', 'malformed token'],
    ['PrivateToken token=', 'malformed token'],
    ['Bearer abc', 'malformed token'],
    [formatTokenHeader(await mintToken(stranger)), 'unknown token key'],
    [formatTokenHeader(await mintToken(expiredKey)), 'expired token key'],
    [formatTokenHeader(forged), 'token signature does not verify'],
  ];
  for (const [authorization, reason] of cases) {
    const { status, headers } = await connectWith(authorization);
    assert.equal(status, 407, authorization.slice(0, 30));
    assert.equal(detailsOf(headers), reason);
    assert.match(headers.get('proxy-authenticate') ?? '', /^PrivateToken challenge="/);
  }
  // Still serving: a good token opens a tunnel.
  const [good] = await tokensFromIssuer(world, 1);
  assert.equal((await connectWith(formatTokenHeader(good!))).status, 200);
});

test('a token spent on one ingress instance is refused on the other', async () => {
  const [token] = await tokensFromIssuer(world, 1);
  const header = formatTokenHeader(token!);
  assert.equal((await connectWith(header)).status, 200);
  const replayElsewhere = await connectWith(header, { host: SECOND_INGRESS, port: secondPort });
  assert.equal(replayElsewhere.status, 407);
  assert.equal(detailsOf(replayElsewhere.headers), 'token already spent');
  const replayHere = await connectWith(header);
  assert.equal(detailsOf(replayHere.headers), 'token already spent');
  // And the other way round: fresh on the second instance, then refused on the first.
  const [other] = await tokensFromIssuer(world, 1);
  assert.equal(
    (await connectWith(formatTokenHeader(other!), { host: SECOND_INGRESS, port: secondPort }))
      .status,
    200,
  );
  assert.equal(
    detailsOf((await connectWith(formatTokenHeader(other!))).headers),
    'token already spent',
  );
});

test('the SDK spends one token per session, over either carrier, and refetches in batches', async () => {
  const echo = await echoTarget(ADDR.target);
  const wallet = worldWallet({ batchSize: 4, refillBelow: 1 });
  try {
    for (const carrier of ['connect', 'websocket'] as const) {
      for (let session = 0; session < 3; session++) {
        // A fresh client is a fresh session: each one costs exactly one token.
        const client = sdkClient(world, { authenticator: wallet, carrier });
        const flows = await Promise.all(
          [1, 2, 3].map(async (i) => {
            const flow = await client.connect({ host: ADDR.target, port: echo.port });
            flow.end(`flow ${i}`);
            const parts: Buffer[] = [];
            for await (const chunk of flow) parts.push(chunk as Buffer);
            return Buffer.concat(parts).toString();
          }),
        );
        assert.deepEqual(flows, ['flow 1', 'flow 2', 'flow 3']);
        client.close();
      }
    }
    // Six sessions, many flows: six tokens spent. The first session waited, so it asked for
    // two tokens only (the cold start's critical path); every later fetch is a batch of four.
    assert.equal(wallet.fetched - wallet.size, 6);
    assert.equal((wallet.fetched - 2) % 4, 0, `fetched ${wallet.fetched}`);
  } finally {
    wallet.close();
    await echo.close();
  }
});

test(
  'NATS unreachable: redemption fails closed with 503 and Retry-After, then recovers',
  { timeout: 60_000 },
  async () => {
    const [held, later] = await tokensFromIssuer(world, 2);
    await nats.kill();
    try {
      const started = Date.now();
      const refused = await connectWith(formatTokenHeader(held!));
      assert.equal(refused.status, 503);
      assert.match(refused.headers.get('proxy-status') ?? '', /error=proxy_internal_error/);
      assert.equal(detailsOf(refused.headers), 'token store unavailable; redemption fails closed');
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      // Bounded: the client reconnects to NATS for ever, so without the claim deadline (2 s)
      // this would never answer. A bound far above the deadline cannot flake on a busy machine
      // (the deadline itself is checked in packages/infra/spent-tokens/test/outage.test.ts).
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await nats.restart();
    }
    // Back: a token that never reached the store redeems (within the reconnect interval).
    let status = 0;
    await eventually(
      () => `a session paid for once NATS is back (last status ${status})`,
      async () => {
        const [token] = status === 0 ? [later!] : await tokensFromIssuer(world, 1);
        status = (await connectWith(formatTokenHeader(token!))).status;
        return status === 200;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    assert.equal(status, 200);
  },
);

test("a wallet that knows the fleet's challenge pays for its first session with no 407; a wrong guess falls back", async () => {
  const echo = await echoTarget(ADDR.target);
  try {
    for (const [originInfo, expected407s] of [
      [INGRESS_NAME, 0],
      // Negative control: a challenge the fleet does not send costs one 407, then works.
      ['not-the-fleet.example', 1],
    ] as const) {
      const wallet = worldWallet({ expectedChallenge: { issuerName: ISSUER_NAME, originInfo } });
      let challenges = 0;
      const counting = {
        authorization: () => wallet.authorization(),
        challenged: (header: string) => {
          challenges++;
          wallet.challenged(header);
        },
      };
      wallet.prefetch();
      const client = sdkClient(world, { authenticator: counting });
      try {
        const flow = await client.connect({ host: ADDR.target, port: echo.port });
        flow.end('predicted');
        const parts: Buffer[] = [];
        for await (const chunk of flow) parts.push(chunk as Buffer);
        assert.equal(Buffer.concat(parts).toString(), 'predicted');
        assert.equal(challenges, expected407s, `407s for origin ${originInfo}`);
      } finally {
        client.close();
        wallet.close();
      }
    }
  } finally {
    await echo.close();
  }
});

test('the wallet refuses a challenge naming a key its issuer does not list', async () => {
  const wallet = worldWallet();
  try {
    // An ingress that tags its clients with a key of its own (key consistency, RFC 9576 §6.2).
    wallet.challenged(
      formatChallengeHeader({
        challenge: worldChallenge(),
        tokenKey: generateIssuerKeyPem().tokenKey,
      }),
    );
    await assert.rejects(
      wallet.authorization(),
      (err: unknown) => err instanceof RelayError && /does not list/.test(err.details),
    );
    assert.equal(wallet.fetched, 0);
  } finally {
    wallet.close();
  }
});

/** Everything two relays would need to link an issuance to a redemption, as found. */
function linkFindings(
  ingresses: readonly Party[],
  issuer: Party,
  credential: string,
): { findings: string[]; tokens: ReturnType<typeof redeemed> } {
  const tokens = ingresses.flatMap((i) => redeemed(i.capture));
  const identities = tokens.flatMap((t, n) => tokenIdentities(t.token, n));
  const findings = leaksIn(issuer, identities).map(
    (f) =>
      `issuer saw a token ${f.identity.split(' ')[0]} (${f.form}/${f.encoding} in ${f.haystack})`,
  );
  for (const ingress of ingresses)
    for (const f of leaksIn(ingress, [{ kind: 'text', text: credential }]))
      findings.push(`ingress saw the subscriber credential (${f.encoding} in ${f.haystack})`);
  return { findings, tokens };
}

/** What the egress must never see of client authentication. */
function egressFindings(egress: Party, credential: string): string[] {
  return leaksIn(egress, [
    { kind: 'text', text: 'PrivateToken', label: 'egress saw a token' },
    { kind: 'text', text: credential, label: 'egress saw the subscriber credential' },
  ]).map((f) => f.identity);
}

test(
  'unlinkability: the issuer never sees a redeemed token, the ingress never the credential',
  { timeout: 60_000 },
  async () => {
    await second.stop();
    await world.stop();
    const credential = world.deployment.issuer!.credential;
    const ingresses = [
      await partyOf(world, 'ingress', world.ingress),
      await partyOf(world, 'ingress-2', second),
    ];
    const issuer = await partyOf(world, 'issuer', world.issuer!);
    const { findings, tokens } = linkFindings(ingresses, issuer, credential);
    assert.deepEqual(findings, []);
    // Positive controls. The ingresses' captures hold the tokens they redeemed, over both
    // carriers: the three WebSocket sessions of the SDK test put theirs in upgrade heads.
    assert.ok(tokens.filter((t) => t.kind === 'http1-connect').length >= 6);
    assert.equal(tokens.filter((t) => t.kind === 'http1-upgrade').length, 3);
    assert.ok(redeemed(ingresses[1]!.capture).length >= 2, 'the second instance redeemed too');
    // The same search finds every nonce where it was redeemed...
    for (const ingress of ingresses) {
      const mine = redeemed(ingress.capture).flatMap((t, n) => tokenIdentities(t.token, n));
      const found = new Set(leaksIn(ingress, mine).map((f) => f.identity));
      assert.equal(found.size, mine.length, `${ingress.name}: every token found where redeemed`);
    }
    // ...and the issuer's capture holds real traffic: every batch request it answered, with
    // the credential (which it may see). Its logs are searched with its capture, in full.
    assert.ok(headsOf(issuer.capture, 'h2-request', 'http1-request').length >= 5);
    assert.ok(leaksIn(issuer, [{ kind: 'text', text: credential }]).length > 0);
    assert.ok(issuer.logs.length > 0);
    // Tokens end at the ingress: the egress never sees one, nor the credential.
    assert.deepEqual(
      egressFindings(await partyOf(world, 'egress-egress-1', world.egresses[0]!), credential),
      [],
    );

    // Negative control: a leaky client that hands the issuer a token it redeemed and hands
    // the ingress its credential. The same check must catch both.
    const leaky = await startWorld({ privacyPass: true, capture: true, logLevel: 'info' });
    try {
      const [token] = await tokensFromIssuer(leaky, 1);
      const header = formatTokenHeader(token!);
      const connect = (authorization: string) =>
        tlsExchange(
          {
            host: ADDR.ingress,
            port: leaky.ingressPort,
            servername: INGRESS_NAME,
            ca: readFileSync(leaky.deployment.caCert, 'utf8'),
          },
          `CONNECT egress-1:443 HTTP/1.1\r\nHost: egress-1:443\r\nProxy-Authorization: ${authorization}\r\n\r\n`,
          1000,
        );
      await connect(header);
      await connect(`Bearer ${leaky.deployment.issuer!.credential}`);
      // A leaky ingress passing the client's token on to the egress over the trunk.
      await leakyTrunk(leaky, { 'proxy-authorization': header });
      await issuerPost(leaky, new Uint8Array([1]), {
        authorization: `Bearer ${leaky.deployment.issuer!.credential}`,
        'content-type': 'application/private-token-request',
        'x-debug-redeemed': header,
      });
      await leaky.stop();
      const { findings: caught } = linkFindings(
        [await partyOf(leaky, 'ingress', leaky.ingress)],
        await partyOf(leaky, 'issuer', leaky.issuer!),
        leaky.deployment.issuer!.credential,
      );
      const text = caught.join('\n');
      assert.match(text, /issuer saw a token nonce .*issuer head/, text);
      assert.match(text, /issuer saw a token authenticator/, text);
      assert.match(text, /ingress saw the subscriber credential \(text in ingress head/, text);
      assert.deepEqual(
        egressFindings(
          await partyOf(leaky, 'egress-egress-1', leaky.egresses[0]!),
          leaky.deployment.issuer!.credential,
        ),
        ['egress saw a token'],
      );
    } finally {
      await leaky.stop();
      await leaky.cleanup();
    }
  },
);
