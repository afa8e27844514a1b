/**
 * Hostile CONNECT-UDP streams: random and mutated capsule bytes on many streams of one inner
 * session never crash the egress, each bad stream ends alone, and a concurrent good UDP flow
 * on another session keeps every datagram intact.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http2 from 'node:http2';
import { once } from 'node:events';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import fc from 'fast-check';
import { encodeDatagramCapsule, encodeCapsule, formatUdpPath } from '@splitrelay/connect-udp';
import type { SplitRelayClient } from '@splitrelay/sdk';
import { ADDR, rawInnerTls, startWorld, type World } from '@splitrelay/test-kit/world';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { eventually } from '@splitrelay/test-kit/eventually';

let world: World;
let echo: dgram.Socket;
let echoPort: number;
let client: SplitRelayClient;

before(async () => {
  world = await startWorld({ logLevel: 'info' });
  echo = dgram.createSocket('udp4');
  echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
  echo.bind(0, ADDR.target);
  await once(echo, 'listening');
  echoPort = echo.address().port;
  client = sdkClient(world);
});
after(async () => {
  client?.close();
  echo?.close();
  await world?.stop();
  await world?.cleanup();
});

/** A raw inner session: what a hostile client could send the egress. */
async function rawInnerSession(): Promise<http2.ClientHttp2Session> {
  const socket = await rawInnerTls(world, 'h2');
  const session = http2.connect('https://egress-1', { createConnection: () => socket });
  session.on('error', () => {});
  await once(session, 'remoteSettings');
  return session;
}

const validStream = (): Buffer =>
  Buffer.concat([
    encodeDatagramCapsule(randomBytes(randomInt(1, 200))),
    encodeCapsule(0x2a, randomBytes(5)),
    encodeDatagramCapsule(randomBytes(3)),
  ]);

function mutate(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < 1 + randomInt(4); i++) out[randomInt(out.length)] = randomInt(256);
  return out;
}

test(
  'random and mutated capsule streams never crash the egress or disturb a good flow',
  { timeout: 90_000 },
  async () => {
    const good = await client.openUdp({ host: ADDR.target, port: echoPort });
    const sent = new Map<number, string>();
    const received = new Map<number, string>();
    good.on('datagram', (p) =>
      received.set(p.readUInt32BE(0), createHash('sha256').update(p).digest('hex')),
    );
    let seq = 0;
    const sendGood = (): void => {
      const payload = randomBytes(randomInt(4, 1200));
      payload.writeUInt32BE(seq, 0);
      sent.set(seq++, createHash('sha256').update(payload).digest('hex'));
      good.send(payload);
    };
    const pump = setInterval(sendGood, 5);

    const session = await rawInnerSession();
    const path = formatUdpPath({ host: ADDR.target, port: echoPort });
    const inputs: Buffer[] = [
      ...fc.sample(fc.uint8Array({ minLength: 1, maxLength: 4096 }), 60).map((a) => Buffer.from(a)),
      ...Array.from({ length: 60 }, () => mutate(validStream())),
      // A declared length far over the limit, and a stream cut inside a capsule.
      Buffer.from([0x00, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      validStream().subarray(0, 7),
    ];
    // A stream counts as ended by the egress only if it closed before the test gave up on it
    // and destroyed it itself.
    let endedByEgress = 0;
    let destroyedByTest = 0;
    for (const bytes of inputs) {
      // Good datagrams interleaved with every hostile stream, besides the steady pump.
      for (let i = 0; i < 3; i++) sendGood();
      const stream = session.request({
        ':method': 'CONNECT',
        ':protocol': 'connect-udp',
        ':scheme': 'https',
        ':authority': 'egress-1:443',
        ':path': path,
        'capsule-protocol': '?1',
      });
      stream.on('error', () => {});
      stream.resume();
      stream.end(bytes);
      await new Promise<void>((resolve) => {
        let gaveUp = false;
        // Generous: how long the egress takes is not what is checked, that it ends them is.
        const t = setTimeout(() => {
          gaveUp = true;
          destroyedByTest++;
          stream.destroy();
          resolve();
        }, 10_000);
        stream.once('close', () => {
          clearTimeout(t);
          if (!gaveUp) endedByEgress++;
          resolve();
        });
      });
    }
    session.destroy();

    clearInterval(pump);
    // Until every echo is back, or none has come for a while: what is still missing is lost.
    let last = -1;
    await eventually(
      'the good flow to settle',
      () => {
        const now = received.size;
        const settled = now === sent.size || now === last;
        last = now;
        return settled;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    good.close();
    const lost = [...sent.keys()].filter((k) => !received.has(k)).length;
    const corrupt = [...received].filter(([k, h]) => sent.get(k) !== h).length;
    console.log(
      `# fuzz: ${inputs.length} hostile streams (${endedByEgress} ended by the egress, ${destroyedByTest} by the test); good flow ${sent.size} sent, ${lost} lost, ${corrupt} corrupt`,
    );
    assert.equal(corrupt, 0);
    assert.ok(sent.size > 100);
    assert.ok(lost <= sent.size * 0.01, `${lost} lost`);
    assert.equal(destroyedByTest, 0, 'the test had to end none of the hostile streams');
    assert.equal(endedByEgress, inputs.length, 'the egress ended every hostile stream');
    for (const app of [world.ingress, ...world.egresses])
      assert.equal(app.process.exitCode, null, `${app.name} is still up`);
    // The egress still takes new UDP flows.
    const after = await client.openUdp({ host: ADDR.target, port: echoPort });
    const echoed = new Promise<Buffer>((resolve) => after.once('datagram', resolve));
    after.send(Buffer.from('still here'));
    assert.equal((await echoed).toString(), 'still here');
    after.close();
  },
);
