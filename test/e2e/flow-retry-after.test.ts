/**
 * The egress's advice on a refused flow reaches whoever asked for it. With the egress capped at
 * one concurrent flow (limits.maxFlows), a second flow is refused with 503,
 * connection_limit_reached and Retry-After; that value must come out of every client path:
 *   - the SDK: `client.connect` rejects with a RelayError whose retryAfterSeconds is the egress's;
 *   - the local HTTP proxy: CONNECT and absolute-form requests answer 503 with Retry-After;
 *   - the local SOCKS5 proxy: RFC 1928 has no such field, so the reply is 0x01 (general
 *     failure) and the advice is logged (`socks connect refused`, retryAfterSeconds).
 * Once the flow holding the slot ends, a new flow is admitted again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { once } from 'node:events';
import { RelayError } from '@splitrelay/errors';
import type { SplitRelayClient } from '@splitrelay/sdk';
import { records } from '@splitrelay/local-deployment';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { exchange } from '@splitrelay/test-kit/raw';
import { socksRequest } from '@splitrelay/test-kit/socks-client';

const T = { timeout: 60_000 };
const RETRY_AFTER = 4;

let world: World;
let echo: Awaited<ReturnType<typeof echoTarget>>;
let client: SplitRelayClient;
let holder: Duplex | undefined;

before(async () => {
  world = await startWorld({
    egressExtra: { limits: { maxFlows: 1, flowLimitRetryAfterSeconds: RETRY_AFTER } },
  });
  echo = await echoTarget(ADDR.target);
  client = sdkClient(world);
});

after(async () => {
  holder?.destroy();
  client?.close();
  // The relays first: they hold the target side of any flow still open.
  await world?.stop();
  await echo?.close();
  await world?.cleanup();
});

const echoAt = () => ({ host: ADDR.target, port: echo.port });

async function roundTrip(flow: Duplex, text: string): Promise<string> {
  flow.write(text);
  const [chunk] = (await once(flow, 'data')) as [Buffer];
  return chunk.toString();
}

async function refusalOf(attempt: Promise<Duplex>): Promise<RelayError> {
  try {
    (await attempt).destroy();
  } catch (err) {
    assert.ok(err instanceof RelayError, String(err));
    return err;
  }
  assert.fail('the flow was admitted');
}

/** Raw HTTP/1.1 to the client app's local proxy; everything until it closes. */
async function viaHttpProxy(request: string): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port: world.httpPort });
  await once(socket, 'connect');
  return exchange(socket, request, 10_000);
}

test('while one flow holds the only slot, the SDK gets the egress Retry-After', T, async () => {
  holder = await client.connect(echoAt());
  assert.equal(await roundTrip(holder, 'held'), 'held');

  const err = await refusalOf(client.connect(echoAt()));
  assert.equal(err.code, 'limit-reached');
  assert.equal(err.status, 503);
  assert.equal(err.proxyError, 'connection_limit_reached');
  assert.equal(err.details, 'egress flow limit reached');
  assert.equal(err.retryAfterSeconds, RETRY_AFTER);
  // The flow was refused, not the session: the held flow still works.
  assert.equal(await roundTrip(holder, 'still'), 'still');
});

test('the local HTTP proxy answers 503 with the egress Retry-After', T, async () => {
  assert.ok(holder, 'the first test holds the slot');
  const authority = `${ADDR.target}:${echo.port}`;
  const tunnel = await viaHttpProxy(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  assert.match(tunnel, /^HTTP\/1\.1 503 /);
  assert.match(tunnel, new RegExp(`\r\nRetry-After: ${RETRY_AFTER}\r\n`));
  assert.match(tunnel, /\r\nProxy-Status: [^\r]*error=connection_limit_reached/);

  const forwarded = await viaHttpProxy(
    `GET http://${authority}/ HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`,
  );
  assert.match(forwarded, /^HTTP\/1\.1 503 /);
  assert.match(forwarded, new RegExp(`\r\n[Rr]etry-[Aa]fter: ${RETRY_AFTER}\r\n`));
});

test(
  'SOCKS5 has no Retry-After: a general-failure reply, and the advice in the client log',
  T,
  async () => {
    assert.ok(holder, 'the first test holds the slot');
    const { reply, socket } = await socksRequest(world.socks, 'connect', {
      host: ADDR.target,
      port: echo.port,
    });
    socket.destroy();
    assert.equal(reply, 0x01);
    const logged = await world.client.waitFor('socks connect refused', 10_000);
    assert.equal(logged.code, 'limit-reached');
    assert.equal(logged.retryAfterSeconds, RETRY_AFTER);
    // The log line names no target (the local proxies never log one).
    assert.ok(
      records(world.client)
        .filter((r) => r.event === 'socks connect refused')
        .every((r) => !JSON.stringify(r).includes(ADDR.target)),
    );
  },
);

test('once the holding flow ends, a new flow is admitted', T, async () => {
  holder?.destroy();
  holder = undefined;
  let flow: Duplex | undefined;
  // Bounded: the egress frees the slot when its socket to the target closes.
  for (let i = 0; i < 50 && flow === undefined; i++) {
    try {
      flow = await client.connect(echoAt());
    } catch (err) {
      assert.ok(err instanceof RelayError && err.code === 'limit-reached', String(err));
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(flow, 'the freed slot admitted a flow');
  assert.equal(await roundTrip(flow, 'again'), 'again');
  flow.destroy();
});
