/**
 * UDP bursts through a freshly started client app, from an independent SOCKS5 UDP ASSOCIATE
 * client: 500 datagrams in bursts of 25, echoes read between bursts. Every datagram is
 * accounted for by where it went or was lost: the kernel at the client's association socket
 * (the client's own stats read it from /proc/net/udp), the client's counters, the egress's
 * counters, the kernel at the egress's socket, at the target and at the test's own socket.
 * The sum of the losses must equal what did not come back. The control: a client whose
 * association sockets get a tiny buffer drops at its socket, and the same accounting puts the
 * loss there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { encodeUdpHeader } from '@splitrelay/socks5';
import { records, startApp, type LogRecord, type RunningApp } from '@splitrelay/local-deployment';
import { ownSockets } from '@splitrelay/transport';
import { eventually } from '@splitrelay/test-kit/eventually';
import { socksRequest } from '@splitrelay/test-kit/socks-client';
import { ADDR, startWorld, type World } from '@splitrelay/test-kit/world';

const BURSTS = 20;
const BURST = 25;
const PAYLOAD = 1200;
const MiB = 1024 * 1024;

let world: World;
let echo: dgram.Socket;
const atTarget: number[] = [];

before(async () => {
  world = await startWorld({ logLevel: 'info' });
  echo = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * MiB });
  echo.on('message', (msg, rinfo) => {
    atTarget.push(msg.readUInt32BE(0));
    echo.send(msg, rinfo.port, rinfo.address);
  });
  echo.bind(0, ADDR.target);
  await once(echo, 'listening');
});
after(async () => {
  echo?.close();
  await world?.stop();
  await world?.cleanup();
});

/** The kernel's drop count of one socket: ours by port, or another process's by its peer. */
async function kernelDrops(
  pid: number | 'self',
  match: (r: { localPort: number; remotePort: number }) => boolean,
) {
  return (await ownSockets('udp', pid)).filter(match).reduce((sum, r) => sum + (r.drops ?? 0), 0);
}

const lastStats = (app: RunningApp): LogRecord | undefined =>
  records(app)
    .filter((r) => r.event === 'stats')
    .pop();
const n = (record: LogRecord | undefined, field: string): number => Number(record?.[field] ?? 0);

/** Waits until `count()` reaches `want`, or stops moving for `quietMs` (what is lost is lost). */
async function settle(count: () => number, want: number, quietMs = 300): Promise<void> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const now = count();
    if (now >= want) return;
    if (now !== last) [last, since] = [now, Date.now()];
    else if (Date.now() - since > quietMs) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Accounting {
  readonly sent: number;
  readonly back: number;
  readonly places: Readonly<Record<string, number>>;
  readonly stages: Readonly<Record<string, [number, number]>>;
  readonly recvBufferBytes: number;
}

/** Starts a client app, sends the bursts through it, and accounts for every datagram. */
async function burstThrough(name: string, udpBufferBytes?: number): Promise<Accounting> {
  const egress = world.egresses[0]!;
  const egressBefore = lastStats(egress);
  const targetBefore = atTarget.length;
  const client = await startApp(
    'client',
    await world.deployment.writeConfig(name, {
      ...world.clientConfig,
      socks: { listen: '127.0.0.1:0', ...(udpBufferBytes ? { udpBufferBytes } : {}) },
      log: { level: 'info', statsIntervalMs: 200 },
    }),
  );
  const socks = new URL(String(client.ready.socks));
  const test = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * MiB });
  try {
    // Freshly started: the association and the first burst come right after `ready`.
    const association = await socksRequest(
      { host: socks.hostname, port: Number(socks.port) },
      'udp-associate',
      { host: '0.0.0.0', port: 0 },
    );
    assert.equal(association.reply, 0);
    test.bind(0, '127.0.0.1');
    await once(test, 'listening');
    const back: number[] = [];
    test.on('message', (msg: Buffer) => back.push(msg.readUInt32BE(msg.length - PAYLOAD)));
    let sendErrors = 0;
    let sent = 0;
    for (let b = 0; b < BURSTS; b++) {
      for (let i = 0; i < BURST; i++) {
        const payload = Buffer.alloc(PAYLOAD, sent & 0xff);
        payload.writeUInt32BE(sent++, 0);
        test.send(
          encodeUdpHeader({ host: ADDR.target, port: echo.address().port }, payload),
          association.bound.port,
          association.bound.host,
          (err) => (sendErrors += err ? 1 : 0),
        );
      }
      await settle(() => back.length, sent);
    }
    // The kernel's counts of the sockets that close with the flow, read while they are open.
    const testPort = test.address().port;
    const echoPort = echo.address().port;
    const atTestSocket = await kernelDrops('self', (r) => r.localPort === testPort);
    const atTargetSocket = await kernelDrops('self', (r) => r.localPort === echoPort);
    const atEgressSocket = await kernelDrops(egress.pid, (r) => r.remotePort === echoPort);
    const statsAtClose = records(client).filter((r) => r.event === 'stats').length;
    association.socket.destroy();
    // A stats line logged after the association closed, and the egress's flow done.
    const clientStats = await eventually('the client stats after the close', () =>
      records(client).filter((r) => r.event === 'stats').length > statsAtClose + 1
        ? lastStats(client)
        : undefined,
    );
    const egressStats = await eventually(
      "the egress's stats with the flow done",
      () => {
        const s = lastStats(egress);
        return n(s, 'datagramsUp') > n(egressBefore, 'datagramsUp') ? s : undefined;
      },
      { timeoutMs: 15_000 },
    );
    const delta = (field: string) => n(egressStats, field) - n(egressBefore, field);
    const c = (field: string) => n(clientStats, field);
    const inAssociation =
      c('udpDroppedForeignSource') +
      c('udpDroppedMalformed') +
      c('udpDroppedFragment') +
      c('udpDroppedQueueFull') +
      c('udpDroppedFlowLimit') +
      c('udpDroppedRefused');
    const T = atTarget.length - targetBefore;
    return {
      sent,
      back: back.length,
      recvBufferBytes: c('udpRecvBufferBytes'),
      places: {
        'test socket send errors': sendErrors,
        'kernel, client association socket': c('udpDroppedByKernel'),
        'client association counters': inAssociation,
        'client flow queue': c('udpDroppedInFlow'),
        'egress counters': delta('datagramsDropped'),
        'kernel, target socket': atTargetSocket,
        'kernel, egress socket': atEgressSocket,
        'client send errors': c('udpSendErrors'),
        'kernel, test socket': atTestSocket,
      },
      // Each stage: what went in, and what came out plus what was counted lost there.
      stages: {
        'client in': [
          sent - sendErrors,
          c('udpDroppedByKernel') + inAssociation + c('datagramsUp'),
        ],
        target: [delta('datagramsUp'), T + atTargetSocket],
        'egress back': [T, delta('datagramsDown') + atEgressSocket],
        'client out': [c('datagramsDown'), back.length + atTestSocket + c('udpSendErrors')],
      },
    };
  } finally {
    test.close();
    await client.stop();
  }
}

function report(name: string, a: Accounting): void {
  const lost = a.sent - a.back;
  const places = Object.entries(a.places)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `# ${name}: ${a.sent} sent, ${a.back} back, ${lost} lost${places ? `: ${places}` : ''} (receive buffer ${a.recvBufferBytes} bytes)`,
  );
  for (const [stage, [into, out]] of Object.entries(a.stages))
    assert.equal(out, into, `${name}, ${stage}: ${into} in, ${out} out or counted`);
  const counted = Object.values(a.places).reduce((x, y) => x + y, 0);
  assert.equal(counted, lost, `${name}: ${lost} lost, ${counted} counted where it happened`);
}

test(
  'bursts through a freshly started client: every loss is counted where it happened',
  { timeout: 120_000 },
  async () => {
    const a = await burstThrough('client-bursts');
    report('default buffers', a);
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    assert.ok(
      a.recvBufferBytes >= Math.min(4 * MiB, rmemMax),
      'the socket got a burst-sized buffer',
    );
  },
);

test(
  'control: a tiny association buffer drops at the client socket, and is counted there',
  { timeout: 120_000 },
  async () => {
    const a = await burstThrough('client-tiny-buffer', 4096);
    report('4 KiB buffer', a);
    assert.ok(
      a.places['kernel, client association socket']! > 0,
      'the kernel dropped at the client',
    );
  },
);
