/**
 * Hostile and broken Oblivious HTTP requests against the real ingress relay and egress
 * gateway: each is refused with its status (the gateway's, passed through the relay
 * unchanged, or the relay's own), both processes stay up, and good requests sent at the same
 * time succeed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { decodeResponse, encodeRequest } from '@splitrelay/bhttp';
import { ohttpKeysBytes } from '@splitrelay/directory';
import {
  OHTTP_KEY_PROBLEM_TYPE,
  decodeKeys,
  encapsulateRequest,
  type KeyConfig,
} from '@splitrelay/ohttp';
import type { SplitRelayClient } from '@splitrelay/sdk';
import {
  ADDR,
  INGRESS_NAME,
  TARGET_NAME,
  startWorld,
  type World,
  worldHttpsTarget,
} from '@splitrelay/test-kit/world';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';

const T = { timeout: 60_000 };
const RELAY = '/.well-known/splitrelay/ohttp-relay/egress-1';
const REQ = 'message/ohttp-req';
let world: World;
let target: Awaited<ReturnType<typeof worldHttpsTarget>>;
let client: SplitRelayClient;
let config: KeyConfig;
let ca: string;

before(async () => {
  world = await startWorld({
    ohttp: true,
    logLevel: 'info',
    ingressOhttp: { timeoutMs: 1500, maxRequestBytes: 64 * 1024 },
    egressOhttp: { maxRequestBytes: 4096 },
  });
  target = await worldHttpsTarget(world, 'good\n');
  client = sdkClient(world);
  ca = readFileSync(world.deployment.caCert, 'utf8');
  config = decodeKeys(ohttpKeysBytes(world.deployment.entries[0]!.ohttpKeys!)).value[0]!;
});
after(async () => {
  client?.close();
  await target?.close();
  await world?.stop();
  await world?.cleanup();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function send(init: {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  hold?: boolean;
}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: ADDR.ingress,
        port: world.ingressPort,
        servername: INGRESS_NAME,
        ca,
        localAddress: ADDR.client,
        method: init.method ?? 'POST',
        path: init.path ?? RELAY,
        headers: init.headers ?? { 'content-type': REQ },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (init.body) req.write(init.body);
    if (!init.hold) req.end();
  });
}

const request = (path = '/') =>
  encodeRequest({
    method: 'GET',
    scheme: 'https',
    authority: `${TARGET_NAME}:${target.port}`,
    path,
    headers: [],
    content: new Uint8Array(0),
    trailers: [],
  });

async function sealed(bhttp = request()) {
  return encapsulateRequest(config, bhttp);
}

/** A good request through the SDK, to run beside the bad ones. */
async function good(): Promise<void> {
  const res = await client.ohttpFetch(`https://${TARGET_NAME}:${target.port}/`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'good\n');
}

function alive(): void {
  for (const app of [world.ingress, world.egresses[0]!])
    assert.equal(app.process.exitCode, null, `${app.name} is still running`);
}

test('an unknown key id: the gateway’s 400 problem, through the relay unchanged', T, async () => {
  const { encapsulatedRequest } = await sealed();
  const bytes = Uint8Array.from(encapsulatedRequest);
  bytes[0] = (config.keyId + 1) % 256;
  const [answer] = await Promise.all([send({ body: bytes }), good()]);
  assert.equal(answer.status, 400);
  assert.equal(answer.headers['content-type'], 'application/problem+json');
  assert.equal(JSON.parse(answer.body.toString()).type, OHTTP_KEY_PROBLEM_TYPE);
  alive();
});

test('truncated or tampered encapsulations: one 400, no body, no oracle', T, async () => {
  const { encapsulatedRequest } = await sealed();
  const flipped = Uint8Array.from(encapsulatedRequest);
  flipped[flipped.length - 3]! ^= 0x40;
  const cases = [flipped, encapsulatedRequest.subarray(0, 30), encapsulatedRequest.subarray(0, 3)];
  const answers = await Promise.all([...cases.map((body) => send({ body })), good()]);
  for (const answer of answers.slice(0, 3) as Answer[]) {
    assert.equal(answer.status, 400);
    assert.equal(answer.body.length, 0);
  }
  alive();
});

test('malformed Binary HTTP: a 400 only the client can read', T, async () => {
  const { encapsulatedRequest, context } = await sealed(Uint8Array.of(0, 3, 0x47));
  const answer = await send({ body: encapsulatedRequest });
  assert.equal(answer.status, 200, 'the relay and the ingress see only success');
  assert.equal(decodeResponse(context.decapsulateResponse(answer.body)).value.status, 400);
  alive();
});

test('wrong media type 415, wrong method 405, unknown egress 403', T, async () => {
  const { encapsulatedRequest } = await sealed();
  const [wrongType, wrongMethod, unknown] = await Promise.all([
    send({ headers: { 'content-type': 'application/octet-stream' }, body: encapsulatedRequest }),
    send({ method: 'PUT', body: encapsulatedRequest }),
    send({ path: '/.well-known/splitrelay/ohttp-relay/egress-9', body: encapsulatedRequest }),
    good(),
  ]);
  assert.equal(wrongType!.status, 415);
  assert.equal(wrongMethod!.status, 405);
  assert.equal(unknown!.status, 403);
  alive();
});

test('oversized: the relay’s bound (413) and, under it, the gateway’s (413)', T, async () => {
  const [atRelay, atGateway] = await Promise.all([
    send({ body: new Uint8Array(70 * 1024) }),
    send({ body: new Uint8Array(8 * 1024) }),
    good(),
  ]);
  assert.equal(atRelay!.status, 413);
  assert.equal(atGateway!.status, 413);
  alive();
});

test('a body that never ends: 408, while good requests go on', T, async () => {
  const stalled = Array.from({ length: 4 }, () =>
    send({
      headers: { 'content-type': REQ, 'content-length': '500' },
      body: new Uint8Array(10),
      hold: true,
    }),
  );
  await good();
  await good();
  for (const answer of await Promise.all(stalled)) assert.equal(answer.status, 408);
  alive();
});
