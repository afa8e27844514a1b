/**
 * A real DNS server (Debian's dnsmasq, on the targets' loopback address) answers queries sent
 * through both relays, by the library API and by SOCKS5 UDP ASSOCIATE, while the client
 * process resolves nothing itself: names go to the egress.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { decodeUdpHeader, encodeUdpHeader } from '@splitrelay/socks5';
import { socksRequest } from '@splitrelay/test-kit/socks-client';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SplitRelayClient } from '@splitrelay/sdk';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';
import { DNS_OBSERVER_ENV, DNS_OBSERVER_PRELOAD } from '@splitrelay/capture';
import { sdkClient } from '@splitrelay/test-kit/sdk-client';
import { startDnsmasq, type Dnsmasq } from '@splitrelay/test-kit/dnsmasq';
import { buildQuery, parseAnswer } from '@splitrelay/test-kit/dns-message';

const DNS_PORT = 5300;
const DNS_HOST = '127.0.4.53';
const DNS_NAME = 'dns.splitrelay.test';
const ASKED = 'answer.splitrelay.test';

let world: World;
let dnsmasq: Dnsmasq;
let client: SplitRelayClient;

before(async () => {
  dnsmasq = await startDnsmasq(DNS_HOST, DNS_PORT, { [ASKED]: '192.0.2.77' });
  world = await startWorld({
    logLevel: 'info',
    observeClientDns: true,
    egressExtra: { dns: { hosts: { [DNS_NAME]: [DNS_HOST] } } },
  });
  client = sdkClient(world);
});
after(async () => {
  client?.close();
  await world?.stop();
  await world?.cleanup();
  await dnsmasq?.stop();
});

async function ask(
  target: { host: string; port: number },
  id: number,
): Promise<ReturnType<typeof parseAnswer>> {
  const flow = await client.openUdp(target);
  try {
    const answer = new Promise<Buffer>((resolve) => flow.once('datagram', resolve));
    flow.send(buildQuery(id, ASKED));
    const reply = await Promise.race([
      answer,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no DNS answer')), 5000)),
    ]);
    return parseAnswer(reply);
  } finally {
    flow.close();
  }
}

test(
  'dnsmasq answers through both relays (library API), asked from the egress',
  { timeout: 30_000 },
  async () => {
    const byAddress = await ask({ host: DNS_HOST, port: DNS_PORT }, 0x1234);
    assert.deepEqual(byAddress, { id: 0x1234, rcode: 0, addresses: ['192.0.2.77'] });
    // The DNS server named by a name: the egress resolves it, the client never does.
    const byName = await ask({ host: DNS_NAME, port: DNS_PORT }, 0x4321);
    assert.deepEqual(byName.addresses, ['192.0.2.77']);
    // dnsmasq answers before its log line reaches this process's pipe reader: wait for it.
    const deadline = Date.now() + 5000;
    while (dnsmasq.queries().length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const log = dnsmasq.queries();
    assert.ok(log.length >= 2, log.join('\n'));
    assert.ok(
      log.every((l) => l.includes(`from ${ADDR.egress(0)}`)),
      log.join('\n'),
    );
  },
);

test('dnsmasq answers a query sent through SOCKS5 UDP ASSOCIATE', { timeout: 30_000 }, async () => {
  const association = await socksRequest(world.socks, 'udp-associate', {
    host: '0.0.0.0',
    port: 0,
  });
  assert.equal(association.reply, 0);
  const udp = dgram.createSocket('udp4');
  try {
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const answer = new Promise<Buffer>((resolve) => udp.once('message', resolve));
    // The DNS server named by a name, resolved at the egress.
    udp.send(
      encodeUdpHeader({ host: DNS_NAME, port: DNS_PORT }, buildQuery(0x5150, ASKED)),
      association.bound.port,
      association.bound.host,
    );
    const reply = await Promise.race([
      answer,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no answer through SOCKS5')), 5000),
      ),
    ]);
    const decoded = decodeUdpHeader(reply);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.host, DNS_NAME);
    assert.deepEqual(parseAnswer(Buffer.from(decoded.value.data)), {
      id: 0x5150,
      rcode: 0,
      addresses: ['192.0.2.77'],
    });
  } finally {
    udp.close();
    association.socket.destroy();
  }
});

test("the client app's own resolver saw no query during the run", { timeout: 30_000 }, async () => {
  await world.stop();
  assert.deepEqual(await world.clientLookups(), []);
});

test('negative control: the same observer catches a lookup', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dns-observer-'));
  try {
    const out = join(dir, 'lookups.json');
    const res = spawnSync(
      process.execPath,
      ['--import', DNS_OBSERVER_PRELOAD, '-e', "require('node:dns').lookup('localhost', () => {})"],
      {
        env: { ...process.env, [DNS_OBSERVER_ENV]: out },
        encoding: 'utf8',
      },
    );
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), ['lookup:localhost']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
