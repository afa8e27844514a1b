/**
 * The separation check, shared by privacy.test.ts and privacy-setups.test.ts: what each party
 * learned (its capture and its logs), searched for identities in every encoding by
 * `@splitrelay/evidence`, and the traffic and the leaky peers the checks run against.
 *
 * Each setup uses two targets and two clients: the real ones carry the clean traffic, and
 * twins of the same shape (LEAK_TARGET, LEAK_CLIENT) are what the leaky peers give away. So
 * one capture answers both questions: the real identities must be absent, and the twins,
 * absent from a snapshot taken before the leaky peers ran, must be found after they did. A
 * check that cannot see a leak in this setup's capture fails its control.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import {
  captureHaystacks,
  headerValues,
  headsOf,
  readCaptureFile,
  type Capture,
} from '@splitrelay/capture';
import { decodeToken, parseTokenHeader, type Token } from '@splitrelay/privacy-pass';
import { spkiPin } from '@splitrelay/directory';
import {
  findLeaks,
  targetIdentities,
  type Finding,
  type Identity,
  type LeakSearchOptions,
} from '@splitrelay/evidence';
import { openInnerSession, type InnerSession } from '@splitrelay/inner-session';
import { decodeUdpHeader, encodeUdpHeader } from '@splitrelay/socks5';
import { encodeDatagramCapsule, formatUdpPath } from '@splitrelay/connect-udp';
import type { RunningApp } from '@splitrelay/local-deployment';
import { run } from '@splitrelay/test-kit/run';
import { socksRequest } from '@splitrelay/test-kit/socks-client';
import { eventually } from '@splitrelay/test-kit/eventually';
import {
  ADDR,
  INGRESS_NAME,
  TARGET_NAME,
  rawInnerTls,
  startWorld,
  worldHttpsTarget,
  type World,
  type WorldOptions,
} from '@splitrelay/test-kit/world';

/** Bytes of the HTTPS target's page: each fetch moves at least this much through both relays. */
const PAGE_BYTES = 64 * 1024;
export const PAGE = `hello from the target\n${'.'.repeat(PAGE_BYTES)}`;

/**
 * A port below Linux's ephemeral range (32768–60999), free for TCP and UDP on `host`. No
 * socket's own source port can then equal it, so the port search (which finds `x:PORT`)
 * cannot be set off by an unrelated connection's port.
 */
async function quietPort(host: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const tcp = net.createServer();
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, host, () => {
        udp.once('error', () => resolve(false));
        udp.bind(port, host, () => resolve(true));
      });
    });
    await new Promise<void>((r) => tcp.close(() => r()));
    await new Promise<void>((r) => {
      try {
        udp.close(() => r());
      } catch {
        r();
      }
    });
    if (ok) return port;
  }
  throw new Error(`no free port below the ephemeral range on ${host}`);
}

/** What the leaky peers name: a target and a client of the same shape as the real ones. */
const LEAK_TARGET_NAME = 'leak.splitrelay.test';
const LEAK_TARGET_IP = '127.0.4.9';
export const LEAK_CLIENT = '127.0.1.9';

export interface Target {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
}

/** A party and everything it learned: its capture and its log lines. */
export interface Party {
  readonly name: string;
  readonly capture: Capture;
  readonly logs: readonly string[];
}

/** The capture file of a world's process so far (records are flushed within 250 ms). */
export async function partyOf(world: World, name: string, app: RunningApp): Promise<Party> {
  const capture = await readCaptureFile(join(world.deployment.dir, `${name}.capture`));
  return { name, capture, logs: [...app.lines] };
}

/** Every identity, in every encoding, in a party's capture and logs. */
export function leaksIn(
  party: Party,
  identities: readonly Identity[],
  options: LeakSearchOptions = {},
): Finding[] {
  return findLeaks(
    {
      ...captureHaystacks(party.capture, party.name),
      [`${party.name} logs`]: party.logs.join('\n'),
    },
    identities,
    { contextBytes: 40, maxFindingsPerNeedle: 2, ...options },
  );
}

export const describeFindings = (findings: readonly Finding[]): string =>
  findings
    .map((f) => `${f.identity} as ${f.form}/${f.encoding} in ${f.haystack}: ${f.context}`)
    .join('\n') || 'no finding';

export const targetOf = (t: Target): Identity[] => targetIdentities(t);
export const clientOf = (address: string): Identity[] => [{ kind: 'ip', address }];

/** The encodings of the findings, as `form/encoding`, to show which spellings were caught. */
export const formsOf = (findings: readonly Finding[]): Set<string> =>
  new Set(findings.map((f) => `${f.form}/${f.encoding}`));

/** A UDP echo on the target's address; counts what it received. */
async function udpEcho(host: string, port: number) {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', (msg, rinfo) => {
    received++;
    socket.send(msg, rinfo.port, rinfo.address);
  });
  socket.bind(port, host);
  await once(socket, 'listening');
  return {
    get received() {
      return received;
    },
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

/**
 * Real traffic through the world's client app: HTTPS by name over SOCKS5 and over the HTTP
 * proxy, by address over SOCKS5, and UDP by name and by address through SOCKS5 UDP ASSOCIATE.
 * Returns the bytes the target sent (each page) so captures can be held to it.
 */
export async function throughClientApp(world: World, target: Target): Promise<number> {
  const common = [
    '--silent',
    '--show-error',
    '--max-time',
    '15',
    '--cacert',
    world.deployment.caCert,
  ];
  const fetches: [string, string][] = [
    [`socks5h://127.0.0.1:${world.socksPort}`, `https://${target.name}:${target.port}/`],
    [`http://127.0.0.1:${world.httpPort}`, `https://${target.name}:${target.port}/`],
    [`socks5h://127.0.0.1:${world.socksPort}`, `https://${target.ip}:${target.port}/`],
  ];
  for (const [proxy, url] of fetches) {
    const res = await run('curl', [...common, '--proxy', proxy, url]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, PAGE);
  }
  const association = await socksRequest(world.socks, 'udp-associate', {
    host: '0.0.0.0',
    port: 0,
  });
  assert.equal(association.reply, 0);
  const udp = dgram.createSocket('udp4');
  try {
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    for (const host of [target.name, target.ip]) {
      const text = `datagram to ${host}`;
      const answer = once(udp, 'message') as Promise<[Buffer]>;
      udp.send(
        encodeUdpHeader({ host, port: target.port }, Buffer.from(text)),
        association.bound.port,
        association.bound.host,
      );
      const [reply] = await withTimeout(answer, 10_000, `no UDP echo from ${host}`);
      const decoded = decodeUdpHeader(reply);
      assert.ok(decoded.ok);
      assert.equal(Buffer.from(decoded.value.data).toString(), text);
    }
  } finally {
    udp.close();
    association.socket.destroy();
  }
  return fetches.length * PAGE.length;
}

/** An HTTPS GET over a flow (TLS with the target is end to end), resolving the body. */
export async function httpsGetOver(flow: Duplex, target: Target, ca: string): Promise<string> {
  const socket = tls.connect({ socket: flow, servername: TARGET_NAME, ca });
  await once(socket, 'secureConnect');
  // HTTP/1.0: the body comes whole, not chunked, and the target closes after it.
  socket.end(`GET / HTTP/1.0\r\nHost: ${target.name}:${target.port}\r\n\r\n`);
  const parts: Buffer[] = [];
  for await (const c of socket) parts.push(c as Buffer);
  const text = Buffer.concat(parts).toString();
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

/**
 * Real traffic through an inner session the test opened itself (on any carrier): HTTPS by
 * name and by address, UDP by name and by address. Returns the page bytes moved.
 */
export async function throughSession(session: InnerSession, target: Target, ca: string) {
  for (const host of [target.name, target.ip]) {
    const body = await httpsGetOver(
      await session.openFlow({ host, port: target.port }),
      target,
      ca,
    );
    assert.equal(body, PAGE);
    const flow = await session.openUdp({ host, port: target.port });
    const echoed = once(flow, 'datagram') as Promise<[Buffer]>;
    flow.send(Buffer.from(`datagram to ${host}`));
    assert.equal(
      (await withTimeout(echoed, 10_000, 'no UDP echo'))[0].toString(),
      `datagram to ${host}`,
    );
    flow.close();
  }
  return 2 * PAGE.length;
}

/** An h2 connection to the world's ingress, from the client's address. */
export async function ingressH2(world: World): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`https://${ADDR.ingress}:${world.ingressPort}`, {
    ca: readFileSync(world.deployment.caCert, 'utf8'),
    servername: INGRESS_NAME,
    localAddress: ADDR.client,
  } as http2.SecureClientSessionOptions);
  session.on('error', () => {});
  await once(session, 'connect');
  return session;
}

/** An h2 CONNECT stream through the ingress to egress-1, with extra headers; resolves its status. */
export async function h2Connect(
  session: http2.ClientHttp2Session,
  headers: Record<string, string> = {},
  authority = 'egress-1:443',
): Promise<{ stream: http2.ClientHttp2Stream; status: number }> {
  const stream = session.request({ ':method': 'CONNECT', ':authority': authority, ...headers });
  stream.on('error', () => {});
  const [response] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  return { stream, status: Number(response[':status']) };
}

/** The inner session to egress-1 on a carrier the test made (pinned to the egress's key). */
export async function innerSessionOver(world: World, carrier: Duplex): Promise<InnerSession> {
  return openInnerSession(carrier, {
    egressId: 'egress-1',
    pins: [spkiPin(readFileSync(world.deployment.egress['egress-1']!.cert, 'utf8'))],
    handshakeTimeoutMs: 10_000,
    flowTimeoutMs: 10_000,
  });
}

/**
 * A PROXY protocol v2 header (TCP over IPv4): the binary way a relay would tell the next hop
 * who is behind a connection.
 *
 *   sig(12) = \r\n\r\n\0\r\nQUIT\n   ver_cmd = 0x21 (v2, PROXY)   fam = 0x11 (TCP/IPv4)
 *   len(2) = 12   src_addr(4) dst_addr(4) src_port(2) dst_port(2)
 */
export function proxyV2(src: { ip: string; port: number }, dst: { ip: string; port: number }) {
  const out = Buffer.alloc(28);
  Buffer.from('0d0a0d0a000d0a515549540a', 'hex').copy(out, 0);
  out[12] = 0x21;
  out[13] = 0x11;
  out.writeUInt16BE(12, 14);
  src.ip.split('.').forEach((b, i) => (out[16 + i] = Number(b)));
  dst.ip.split('.').forEach((b, i) => (out[20 + i] = Number(b)));
  out.writeUInt16BE(src.port, 24);
  out.writeUInt16BE(dst.port, 26);
  return out;
}

/**
 * A leaky ingress: its own trunk connection to egress-1 (with the ingress's trunk identity
 * and address), a CONNECT with extra headers, then `bytes` on the stream.
 */
export async function leakyTrunk(
  world: World,
  headers: Record<string, string>,
  bytes?: Buffer,
): Promise<void> {
  const egress = String(world.egresses[0]!.ready.listen);
  const trunk = http2.connect('https://egress-1', {
    createConnection: () =>
      tls.connect({
        host: ADDR.egress(0),
        port: Number(egress.split(':').pop()),
        cert: readFileSync(world.deployment.ingress.trunkCert),
        key: readFileSync(world.deployment.ingress.trunkKey),
        rejectUnauthorized: false,
        ALPNProtocols: ['h2'],
        // Passed on to net.connect; @types/node omits it from tls.ConnectionOptions.
        ...({ localAddress: ADDR.ingress } as tls.ConnectionOptions),
      }),
  });
  trunk.on('error', () => {});
  const stream = trunk.request({ ':method': 'CONNECT', ':authority': 'egress-1:443', ...headers });
  stream.on('error', () => {});
  const [response] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  assert.equal(response[':status'], 200, 'the egress took the leaky trunk stream');
  // The answer says the egress parsed the head; bytes are read once it ends the stream (their
  // inner TLS fails).
  if (bytes) {
    await new Promise<void>((r) => stream.write(bytes, () => r()));
    await withTimeout(once(stream, 'close'), 5000, 'the egress kept the stream').catch(() => {});
  }
  stream.destroy();
  trunk.destroy();
}

/** A client that bypasses the ingress: a TCP connection to the egress from `from`. */
export async function bypass(world: World, from: string): Promise<void> {
  const direct = net.connect({
    host: ADDR.egress(0),
    port: Number(String(world.egresses[0]!.ready.listen).split(':').pop()),
    localAddress: from,
  });
  direct.on('error', () => {});
  await once(direct, 'connect');
  direct.destroy();
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(what)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Bytes one party read on streams whose far end is `address` (e.g. the target, the egress). */
function bytesReadFrom(party: Party, match: (source: string) => boolean): number {
  let sum = 0;
  for (const s of party.capture.streams.values()) if (match(s.source)) sum += s.bytes.length;
  return sum;
}

export const readFromPeer = (party: Party, address: string): number => {
  let sum = 0;
  for (const s of party.capture.streams.values())
    if (s.remoteAddress === address) sum += s.bytes.length;
  return sum;
};

/** What a separation suite holds once its world has run: snapshots before the leaks, and after. */
export interface Run {
  readonly world: World;
  readonly target: Target;
  readonly leakTarget: Target;
  /** Page bytes the clean traffic moved from the target to clients. */
  readonly moved: number;
  /** Before the leaky peers ran (all the clean traffic flushed). */
  readonly before: Readonly<Record<string, Party>>;
  /** The whole run, read after every process stopped. */
  readonly after: Readonly<Record<string, Party>>;
}

export interface Setup {
  /** Options of the world (capture is always on). */
  readonly world: Omit<WorldOptions, 'capture'>;
  /** The captured processes by name (`ingress`, `egress-egress-1` and, with an issuer, `issuer`). */
  readonly parties: (world: World) => Readonly<Record<string, RunningApp>>;
  /** The clean traffic; resolves the page bytes it moved. */
  readonly traffic: (world: World, target: Target) => Promise<number>;
  /** Whether a capture holds everything the clean traffic must have left there. */
  readonly settled: (parties: Readonly<Record<string, Party>>) => boolean;
  /** The leaky peers: each gives a twin identity away to one party. */
  readonly leak: (world: World, leakTarget: Target) => Promise<void>;
}

/** Runs a setup's world: clean traffic, a snapshot, the leaky peers, the whole capture. */
export async function runSetup(setup: Setup): Promise<Run> {
  const world = await startWorld({ ...setup.world, capture: true });
  try {
    const target = { name: TARGET_NAME, ip: ADDR.target, port: await quietPort(ADDR.target) };
    const leakTarget = {
      name: LEAK_TARGET_NAME,
      ip: LEAK_TARGET_IP,
      port: await quietPort(ADDR.target),
    };
    const https = await worldHttpsTarget(world, PAGE, target.port);
    const echo = await udpEcho(ADDR.target, target.port);
    try {
      const moved = await setup.traffic(world, target);
      const read = async (): Promise<Record<string, Party>> =>
        Object.fromEntries(
          await Promise.all(
            Object.entries(setup.parties(world)).map(
              async ([name, app]) => [name, await partyOf(world, name, app)] as const,
            ),
          ),
        );
      let before: Record<string, Party> = {};
      await eventually('the clean traffic in every capture', async () => {
        before = await read();
        return setup.settled(before);
      });
      await setup.leak(world, leakTarget);
      await world.stop();
      return { world, target, leakTarget, moved, before, after: await read() };
    } finally {
      await echo.close();
      await https.close();
    }
  } catch (err) {
    await world.stop();
    await world.cleanup();
    throw err;
  }
}

/**
 * The checks every setup gets, registered as tests: each capture saw real traffic (peers,
 * heads, at least the bytes moved, and the same search finds what the party may know), the
 * ingress never learned the target, the egress never learned the client.
 */
export function cleanRunChecks(
  run: () => Run,
  carrier: { what: string; heads: (ingress: Capture) => number },
): void {
  const ingress = () => run().after.ingress!;
  const egress = () => run().after['egress-egress-1']!;

  test('positive controls: each capture recorded whole and saw real traffic', () => {
    for (const party of Object.values(run().after)) {
      assert.ok(party.capture.end, `${party.name} exited and wrote its whole capture`);
      assert.equal(party.capture.end.droppedBytes, 0, `${party.name} kept every read`);
    }
    const i = ingress().capture;
    assert.ok(
      i.peers.some((p) => p.direction === 'in' && p.remoteAddress === ADDR.client),
      'the ingress saw the client connect',
    );
    assert.ok(carrier.heads(i) > 0, `the ingress parsed the ${carrier.what}`);
    // The pages came back from the egress on trunk streams: at least that many bytes.
    const fromTrunk = bytesReadFrom(ingress(), (s) => s === 'ClientHttp2Stream');
    assert.ok(fromTrunk >= run().moved, `the ingress read ${fromTrunk} of ${run().moved} bytes`);
    // The same search finds what the ingress may know: the client's address.
    assert.ok(leaksIn(ingress(), clientOf(ADDR.client)).length > 0);

    const e = egress().capture;
    assert.ok(
      e.peers.some((p) => p.direction === 'in' && p.remoteAddress === ADDR.ingress),
      'the egress saw the ingress connect',
    );
    const { target } = run();
    const asked = new Set(e.heads.filter((h) => h.kind === 'h2-request').map((h) => h.target));
    for (const authority of [`${target.name}:${target.port}`, `${target.ip}:${target.port}`])
      assert.ok(asked.has(authority), `the egress parsed the inner CONNECT ${authority}`);
    assert.ok(
      [...asked].some((t) => t?.startsWith('/.well-known/masque/udp/')),
      'the egress parsed the inner UDP requests',
    );
    const fromTarget = readFromPeer(egress(), target.ip);
    assert.ok(fromTarget >= run().moved, `the egress read ${fromTarget} of ${run().moved} bytes`);
    // And it finds the target at the egress, which may know it, in every form it has there.
    const known = formsOf(leaksIn(egress(), targetOf(target)));
    for (const form of [
      'name/text',
      'dotted-quad/text',
      'name:port/text',
      'port-in-authority/text',
    ])
      assert.ok(
        known.has(form),
        `${form} of the target found at the egress: ${[...known].join(', ')}`,
      );
  });

  test('the ingress never learned the target: name, address, port, in any encoding', () => {
    const findings = leaksIn(ingress(), [
      ...targetOf(run().target),
      // The inner UDP template would mean the ingress had parsed an inner request.
      { kind: 'text', text: 'masque/udp', label: 'an inner request path' },
    ]);
    assert.deepEqual(findings, [], describeFindings(findings));
  });

  test("the egress never learned the client's address, in any encoding", () => {
    const findings = leaksIn(egress(), clientOf(ADDR.client));
    assert.deepEqual(findings, [], describeFindings(findings));
  });
}

/**
 * The negative control of a setup: the twins were nowhere before the leaky peers ran, and
 * afterwards the same search finds each of them, in the forms expected.
 */
export function leakyControlChecks(
  run: () => Run,
  expected: Readonly<Record<string, { identities: (run: Run) => Identity[]; forms: string[] }>>,
): void {
  test('negative control: the leaky peers were caught by the same search, and only after they ran', () => {
    for (const [party, { identities, forms }] of Object.entries(expected)) {
      const ids = identities(run());
      const before = leaksIn(run().before[party]!, ids);
      assert.deepEqual(before, [], `${party} before the leaks: ${describeFindings(before)}`);
      const after = leaksIn(run().after[party]!, ids);
      const found = formsOf(after);
      for (const form of forms)
        assert.ok(found.has(form), `${form} at ${party}; found:\n${describeFindings(after)}`);
    }
  });
}

export const leakTargetOf = (run: Run): Identity[] => targetOf(run.leakTarget);
export const LEAK_CLIENT_PORT = 23_456;
export const leakClientOf = (): Identity[] => [
  ...clientOf(LEAK_CLIENT),
  { kind: 'endpoint', host: LEAK_CLIENT, port: LEAK_CLIENT_PORT },
];

/** Every token a capture's request heads carried in Proxy-Authorization, with the head's kind. */
export function redeemed(capture: Capture): { kind: string; token: Token }[] {
  return headsOf(capture, 'http1-connect', 'http1-upgrade', 'h2-request').flatMap((head) =>
    headerValues(head, 'proxy-authorization').flatMap((value) => {
      try {
        return [{ kind: head.kind, token: decodeToken(parseTokenHeader(value)) }];
      } catch {
        // A malformed or foreign credential (a refusal test's) is no token.
        return [];
      }
    }),
  );
}

/** A token as identities: its nonce and its authenticator, each searched in every encoding. */
export const tokenIdentities = (token: Token, n: number): Identity[] => [
  { kind: 'bytes', bytes: token.nonce, label: `nonce of token ${n}` },
  { kind: 'bytes', bytes: token.authenticator, label: `authenticator of token ${n}` },
];

/**
 * A UDP flow in the inner session's HTTP/1.1 form (GET with `Upgrade: connect-udp`, RFC 9298
 * §3.2), by the target's address: one datagram there and back. Its head is parsed by the
 * egress's HTTP/1.1 parser, the `upgrade` the capture must see.
 */
export async function innerHttp1Udp(world: World, target: Target): Promise<void> {
  const socket = await rawInnerTls(world, 'http/1.1');
  try {
    let received = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => (received = Buffer.concat([received, c])));
    socket.write(
      `GET ${formatUdpPath({ host: target.ip, port: target.port })} HTTP/1.1\r\n` +
        'Host: egress-1:443\r\nConnection: Upgrade\r\nUpgrade: connect-udp\r\n' +
        'Capsule-Protocol: ?1\r\n\r\n',
    );
    await eventually('the 101', () => received.includes('\r\n\r\n'), { timeoutMs: 5000 });
    assert.match(received.toString('latin1'), /^HTTP\/1\.1 101 /);
    received = received.subarray(received.indexOf('\r\n\r\n') + 4);
    socket.write(encodeDatagramCapsule(Buffer.from('over inner http/1.1')));
    await eventually('the echoed capsule', () => received.includes('over inner http/1.1'), {
      timeoutMs: 5000,
    });
  } finally {
    socket.destroy();
  }
}
