/**
 * Privacy Pass on the Oblivious HTTP relay, with real processes (an issuer, the ingress
 * redeeming, the SDK's wallet): a deployment asking for one token per three requests gets
 * exactly that from a client on one connection; a request without a token is answered 401
 * with the fleet's challenge.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { TokenWallet } from '@splitrelay/sdk';
import {
  ADDR,
  INGRESS_NAME,
  ISSUER_NAME,
  TARGET_NAME,
  startWorld,
  type World,
  worldHttpsTarget,
} from '@splitrelay/test-kit/world';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';

const T = { timeout: 90_000 };
const PER_TOKEN = 3;
let world: World;
let target: Awaited<ReturnType<typeof worldHttpsTarget>>;

before(async () => {
  world = await startWorld({
    ohttp: true,
    privacyPass: true,
    logLevel: 'info',
    ingressOhttp: { requestsPerToken: PER_TOKEN },
  });
  target = await worldHttpsTarget(world, 'paid\n');
});
after(async () => {
  await target?.close();
  await world?.stop();
  await world?.cleanup();
});

const ca = (): string => readFileSync(world.deployment.caCert, 'utf8');

test('one token per three requests on a connection', T, async () => {
  const wallet = new TokenWallet({
    issuer: world.issuerUrl!,
    issuerCa: ca(),
    issuerServername: ISSUER_NAME,
    credential: world.deployment.issuer!.credential,
    localAddress: ADDR.client,
    batchSize: 8,
    refillBelow: 1,
  });
  // Sequential requests on one kept-alive connection to the relay.
  const client = sdkClient(world, { authenticator: wallet });
  try {
    for (let i = 0; i < 9; i++) {
      const res = await client.ohttpFetch(`https://${TARGET_NAME}:${target.port}/${i}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'paid\n');
    }
    assert.equal(wallet.fetched - wallet.size, 9 / PER_TOKEN, 'three tokens for nine requests');
  } finally {
    client.close();
    wallet.close();
  }
});

test('a bare request gets 401 with the fleet’s challenge, as a tunnel gets 407', T, async () => {
  const answer = await new Promise<{ status: number; challenge: string | undefined }>(
    (resolve, reject) => {
      const req = https.request(
        {
          host: ADDR.ingress,
          port: world.ingressPort,
          servername: INGRESS_NAME,
          ca: ca(),
          localAddress: ADDR.client,
          method: 'POST',
          path: '/.well-known/splitrelay/ohttp-relay/egress-1',
          headers: { 'content-type': 'message/ohttp-req' },
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] }),
          );
        },
      );
      req.on('error', reject);
      req.end(Buffer.alloc(64));
    },
  );
  assert.equal(answer.status, 401);
  assert.match(answer.challenge ?? '', /^PrivateToken challenge=[^,]+, token-key=/);
});
