/**
 * The egress caps concurrent inner sessions per ingress (limits.maxSessionsPerIngress): past
 * the cap a new session is refused with 503, Proxy-Status connection_limit_reached and
 * Retry-After, and the ingress passes that refusal on to the client instead of hanging. The
 * admitted sessions keep streaming, the egress stays up, and a freed slot admits again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { RelayError } from '@splitrelay/errors';
import type { SplitRelayClient } from '@splitrelay/sdk';
import { ADDR, INGRESS_NAME, startWorld, type World } from '@splitrelay/test-kit/world';
import { echoTarget } from '@splitrelay/test-kit/targets';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { tlsExchange } from '@splitrelay/test-kit/raw';
import { eventually } from '@splitrelay/test-kit/eventually';

const T = { timeout: 60_000 };
const RETRY_AFTER = 3;
const FLOWS_PER_SESSION = 3;

let world: World;
let echo: Awaited<ReturnType<typeof echoTarget>>;
const clients: SplitRelayClient[] = [];
/** Senders still running if a test fails midway: stopped in `after` so the file can exit. */
const senders = new Set<NodeJS.Timeout>();

before(async () => {
  world = await startWorld({
    logLevel: 'info',
    egressExtra: {
      limits: {
        maxSessionsPerIngress: 2,
        sessionLimitRetryAfterSeconds: RETRY_AFTER,
        maxFlowsPerSession: FLOWS_PER_SESSION,
      },
    },
  });
  echo = await echoTarget(ADDR.target);
});

after(async () => {
  for (const t of senders) clearInterval(t);
  for (const c of clients) c.close();
  await echo?.close();
  await world?.stop();
  await world?.cleanup();
});

/** Each SDK client opens its own inner session (one trunk stream) on its first flow. */
function newClient(): SplitRelayClient {
  const client = sdkClient(world);
  clients.push(client);
  return client;
}

const echoAt = () => ({ host: ADDR.target, port: echo.port });

/** A flow that keeps sending random bytes to the echo until stopped; hashes both ways. */
function stream(flow: Duplex) {
  const sent = createHash('sha256');
  const got = createHash('sha256');
  let bytesSent = 0;
  let bytesGot = 0;
  flow.on('data', (c: Buffer) => {
    got.update(c);
    bytesGot += c.length;
  });
  const ended = new Promise<void>((resolve, reject) => {
    flow.once('end', resolve);
    flow.once('error', reject);
  });
  const timer = setInterval(() => {
    const chunk = randomBytes(32 * 1024);
    sent.update(chunk);
    bytesSent += chunk.length;
    flow.write(chunk);
  }, 20);
  senders.add(timer);
  return {
    bytesGot: () => bytesGot,
    /** Stops sending, half-closes, and checks every byte came back unchanged. */
    async finish(): Promise<void> {
      clearInterval(timer);
      senders.delete(timer);
      flow.end();
      await ended;
      assert.ok(bytesSent > 0);
      assert.equal(bytesGot, bytesSent);
      assert.equal(got.digest('hex'), sent.digest('hex'));
      flow.destroy();
    },
  };
}

async function refusalOf(attempt: Promise<Duplex>): Promise<RelayError> {
  try {
    (await attempt).destroy();
  } catch (err) {
    assert.ok(err instanceof RelayError, String(err));
    return err;
  }
  assert.fail('the session was admitted');
}

test(
  'a third concurrent inner session is refused while two stream on; a freed slot admits',
  T,
  async () => {
    const [first, second] = [newClient(), newClient()];
    const one = stream(await first.connect(echoAt()));
    const two = stream(await second.connect(echoAt()));

    // The SDK gets the egress's reason through the ingress, with its Retry-After.
    const err = await refusalOf(newClient().connect(echoAt()));
    assert.equal(err.code, 'limit-reached');
    assert.equal(err.status, 503);
    assert.equal(err.proxyError, 'connection_limit_reached');
    assert.equal(err.retryAfterSeconds, RETRY_AFTER);

    // On the wire, from the ingress: a complete HTTP refusal, not a hang or a reset.
    const raw = await tlsExchange(
      {
        host: ADDR.ingress,
        port: world.ingressPort,
        servername: INGRESS_NAME,
        ca: readFileSync(world.deployment.caCert, 'utf8'),
        localAddress: ADDR.client,
      },
      'CONNECT egress-1:443 HTTP/1.1\r\nHost: egress-1:443\r\n\r\n',
    );
    assert.match(raw, /^HTTP\/1\.1 503 /);
    assert.match(
      raw,
      /\r\nproxy-status: splitrelay-ingress; error=connection_limit_reached; details="[^"]+"\r\n/i,
    );
    assert.match(raw, new RegExp(`\\r\\nretry-after: ${RETRY_AFTER}\\r\\n`, 'i'));

    // The cap counts sessions, not flows: an admitted session still opens more flows.
    const extra = stream(await first.connect(echoAt()));

    // The admitted flows kept streaming through all of this, every byte intact.
    const seen = [one.bytesGot(), two.bytesGot()];
    await eventually(
      'data still flowing',
      () => one.bytesGot() > (seen[0] as number) && two.bytesGot() > (seen[1] as number),
    );
    await Promise.all([one.finish(), two.finish(), extra.finish()]);
    assert.equal(world.egresses[0]?.process.exitCode, null, 'the egress is up');

    // One session ends: its slot frees at the egress, and a new session is admitted.
    first.close();
    const late = newClient();
    const flow = await eventually('a new session after one closed', () =>
      late.connect(echoAt()).catch((e: unknown) => {
        assert.ok(e instanceof RelayError && e.code === 'limit-reached', String(e));
        return undefined;
      }),
    );
    const fresh = stream(flow);
    await eventually('the new session carries data', () => fresh.bytesGot() > 0);
    await fresh.finish();
    // Two sessions are open again (second and late): the cap still holds.
    assert.equal((await refusalOf(newClient().connect(echoAt()))).code, 'limit-reached');

    // The egress counts the refusals in its aggregate log, per ingress, and never per client.
    const egress = world.egresses[0];
    assert.ok(egress);
    const summary = await eventually('the session-limit summary in the stats', () => {
      const line = egress.lines.find((l) => l.includes('"session limit reached"'));
      return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
    });
    assert.equal(summary.ingress, 'ingress-1');
    assert.ok(Number(summary.refusals) >= 1);
    const refused = await eventually('refusals in the stats', () => {
      const stats = egress.lines
        .filter((l) => l.includes('"stats"'))
        .map((l) => JSON.parse(l) as { refusals?: number });
      const last = stats.at(-1)?.refusals ?? 0;
      return last >= 3 ? last : undefined;
    });
    assert.ok(refused >= 3);
    assert.ok(
      !egress.lines.some((l) => l.includes(ADDR.client)),
      'the egress log holds no client address',
    );
    for (const c of clients.splice(0)) c.close();
  },
);

test('flows past maxFlowsPerSession wait for a free slot in their session', T, async () => {
  // Runs after the sessions test: wait until the egress has a slot for this client's session.
  const client = newClient();
  const flows = [
    stream(
      await eventually('a session slot', () => client.connect(echoAt()).catch(() => undefined)),
    ),
  ];
  for (let i = 1; i < FLOWS_PER_SESSION; i++) flows.push(stream(await client.connect(echoAt())));
  // The egress advertised its cap as SETTINGS_MAX_CONCURRENT_STREAMS: the next flow queues.
  let admitted = false;
  const waiting = client.connect(echoAt()).then((flow) => {
    admitted = true;
    return flow;
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(admitted, false, 'a flow over the cap waits');
  await (flows.shift() as ReturnType<typeof stream>).finish();
  const late = stream(await waiting);
  await eventually('the queued flow carries data', () => late.bytesGot() > 0);
  await Promise.all([...flows, late].map((f) => f.finish()));
});
