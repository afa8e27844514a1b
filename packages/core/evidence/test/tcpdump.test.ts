/**
 * Real captures: tcpdump on loopback records a Node TLS 1.3 connection, and the dissector
 * must read from it what the handshake really negotiated. Node 26 (OpenSSL 3.5) offers
 * X25519MLKEM768 first by default; `ecdhCurve` forces X25519, and a client that sends only
 * a post-quantum key share to a server that accepts only X25519 gets a HelloRetryRequest.
 * Skipped, saying why, only when tcpdump is not installed (`apt-get install -y tcpdump`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { selfSigned } from '@splitrelay/devcerts';
import {
  dissectCapture,
  findLeaksInCapture,
  groupName,
  parseCapture,
  X25519MLKEM768,
  type CaptureDissection,
} from '../src/index.ts';

const linkTypeOf = (file: Uint8Array): number | undefined =>
  parseCapture(file).packets[0]?.linkType;

const haveTcpdump = spawnSync('tcpdump', ['--version']).error === undefined;
const skip = haveTcpdump ? false : 'tcpdump is not installed (apt-get install -y tcpdump)';

let dir: string;
let cert: { certPem: string; keyPem: string };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'evidence-pcap-'));
  cert = await selfSigned({
    commonName: 'target.example',
    dnsNames: ['target.example'],
    usage: 'server',
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs tcpdump around `traffic`, up to three times: on `-i any` the kernel now and then
 * hands tcpdump a loopback connection with a segment missing (the dissector then rightly
 * reports a gap and no ServerHello), which is the capture's fault, not the code's under test.
 */
async function tcpdump(
  name: string,
  iface: string,
  linkType: string | undefined,
  ports: number[],
  traffic: () => Promise<void>,
): Promise<Uint8Array> {
  let file: Uint8Array = new Uint8Array(0);
  for (let attempt = 1; attempt <= 3; attempt++) {
    file = await tcpdumpOnce(`${name}-${attempt}`, iface, linkType, ports, traffic);
    const capture = dissectCapture(file);
    const whole = capture.tcp.every(
      (c) => c.toServer.gaps.length === 0 && c.toClient.gaps.length === 0,
    );
    if (whole && capture.tls.every((t) => t.problems.length === 0)) return file;
  }
  return file;
}

/** Runs tcpdump on `iface` around `traffic`, filtered to the given ports; the file's bytes. */
async function tcpdumpOnce(
  name: string,
  iface: string,
  linkType: string | undefined,
  ports: number[],
  traffic: () => Promise<void>,
): Promise<Uint8Array> {
  const file = join(dir, `${name}.pcap`);
  const args = ['-i', iface, '-U', '--immediate-mode', '-n', '-s', '0', '-w', file];
  if (linkType) args.push('-y', linkType);
  // As root, tcpdump drops to its own user before writing: keep root so it can write here.
  if (process.getuid?.() === 0) args.push('-Z', 'root');
  args.push(ports.map((p) => `tcp port ${p}`).join(' or '));
  const child = spawn('tcpdump', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 5000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited with ${code}: ${stderr}`));
      });
    });
    await traffic();
    // Let the last segments (FIN, ACK) reach the capture before stopping it.
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    if (child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  }
  return Uint8Array.from(readFileSync(file));
}

interface Exchange {
  readonly clientCurve?: string;
  readonly serverCurve?: string;
}

/** A TLS server on 127.0.0.1 that answers one request, and a client that sends it. */
async function tlsExchange(
  opts: Exchange,
): Promise<{ port: number; run: () => Promise<void>; close: () => Promise<void> }> {
  const server = tls.createServer(
    {
      key: cert.keyPem,
      cert: cert.certPem,
      ALPNProtocols: ['h2', 'http/1.1'],
      ...(opts.serverCurve ? { ecdhCurve: opts.serverCurve } : {}),
    },
    (socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
      socket.on('error', () => {});
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const run = async (): Promise<void> => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'target.example',
      ALPNProtocols: ['h2', 'http/1.1'],
      ca: cert.certPem,
      ...(opts.clientCurve ? { ecdhCurve: opts.clientCurve } : {}),
    });
    await once(socket, 'secureConnect');
    socket.write('GET /secret-path-7f3a HTTP/1.1\r\nHost: target.example\r\n\r\n');
    const chunks: Buffer[] = [];
    for await (const c of socket) chunks.push(c as Buffer);
    assert.match(Buffer.concat(chunks).toString(), /200 OK/);
  };
  const close = async (): Promise<void> => {
    server.close();
    await once(server, 'close');
  };
  return { port, run, close };
}

/** A plaintext TCP peer: the negative control of the leak search on the same capture. */
async function plainExchange(): Promise<{
  port: number;
  run: () => Promise<void>;
  close: () => Promise<void>;
}> {
  const server = net.createServer((s) => {
    s.resume();
    s.on('end', () => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const run = async (): Promise<void> => {
    const s = net.connect({ host: '127.0.0.1', port });
    await once(s, 'connect');
    s.end('GET /secret-path-7f3a HTTP/1.1\r\n\r\n');
    s.resume();
    await once(s, 'close');
  };
  const close = async (): Promise<void> => {
    server.close();
    await once(server, 'close');
  };
  return { port, run, close };
}

function onlyTls(capture: CaptureDissection, port: number) {
  const t = capture.tls.filter((x) => x.server.port === port);
  assert.equal(t.length, 1, `one TLS connection to port ${port}`);
  return t[0]!;
}

test(
  'tcpdump -i lo: Node 26 negotiates TLS 1.3 with X25519MLKEM768; SNI and ALPN are read',
  { skip, timeout: 30_000 },
  async () => {
    const tlsPeer = await tlsExchange({});
    const plain = await plainExchange();
    try {
      const file = await tcpdump(
        'default',
        'lo',
        undefined,
        [tlsPeer.port, plain.port],
        async () => {
          await tlsPeer.run();
          await plain.run();
        },
      );
      assert.equal(linkTypeOf(file), 1);
      const capture = dissectCapture(file);
      assert.equal(capture.info.format, 'pcap');
      assert.ok(capture.packets.every((p) => p.problem === undefined || p.problem === 'not-ip'));
      const t = onlyTls(capture, tlsPeer.port);
      assert.deepEqual(t.problems, []);
      const ch = t.clientHellos[0]!;
      assert.equal(ch.sni, 'target.example');
      assert.deepEqual(ch.alpn, ['h2', 'http/1.1']);
      assert.ok(ch.supportedVersions.includes(0x0304));
      assert.ok(
        ch.keyShareGroups.includes(X25519MLKEM768),
        ch.keyShareGroups.map(groupName).join(),
      );
      assert.equal(t.tls13, true);
      assert.equal(groupName(t.keyExchangeGroup!), 'X25519MLKEM768');
      assert.equal(t.postQuantum, true);
      assert.ok(t.serverHello!.at.packet > ch.at.packet);
      // The ClientHello's location is its handshake header in the file (type 1), right after
      // its record header (type 22) in the same packet.
      const chPacket = capture.packets[ch.at.packet - 1]!;
      assert.equal(file[ch.at.fileOffset], 1);
      assert.equal(file[ch.at.fileOffset - 5], 22);
      assert.ok(ch.at.fileOffset - 5 >= chPacket.fileOffset);

      // The leak search: the SNI is plaintext and is found in the ClientHello's packet; the
      // request path is inside TLS and is not, while on the plaintext connection it is.
      const leaks = findLeaksInCapture(capture, [
        { kind: 'dns-name', name: 'target.example' },
        { kind: 'text', text: '/secret-path-7f3a', label: 'request path' },
      ]);
      const sni = leaks.filter(
        (l) => l.identity === 'name target.example' && l.haystack.includes(`:${tlsPeer.port}`),
      );
      assert.ok(
        sni.some((l) => l.packet === ch.at.packet),
        JSON.stringify(leaks),
      );
      const paths = leaks.filter((l) => l.identity === 'request path');
      assert.ok(paths.length > 0, 'the plaintext control is found');
      assert.ok(
        paths.every((l) => l.haystack.includes(`:${plain.port}`)),
        'the TLS request path is not',
      );
    } finally {
      await tlsPeer.close();
      await plain.close();
    }
  },
);

test(
  'tcpdump -i any (LINUX_SLL2): ecdhCurve X25519 is seen as classical TLS 1.3',
  { skip, timeout: 30_000 },
  async () => {
    const peer = await tlsExchange({ clientCurve: 'X25519' });
    try {
      const file = await tcpdump('x25519', 'any', undefined, [peer.port], peer.run);
      assert.equal(linkTypeOf(file), 276);
      const capture = dissectCapture(file);
      const t = onlyTls(capture, peer.port);
      assert.deepEqual(t.clientHellos[0]!.keyShareGroups.map(groupName), ['x25519']);
      assert.equal(t.tls13, true);
      assert.equal(groupName(t.keyExchangeGroup!), 'x25519');
      assert.equal(t.postQuantum, false);
    } finally {
      await peer.close();
    }
  },
);

test(
  'tcpdump -i any -y LINUX_SLL: a HelloRetryRequest and the second ClientHello are read',
  { skip, timeout: 30_000 },
  async () => {
    const peer = await tlsExchange({ clientCurve: 'X25519MLKEM768:X25519', serverCurve: 'X25519' });
    try {
      const file = await tcpdump('hrr', 'any', 'LINUX_SLL', [peer.port], peer.run);
      assert.equal(linkTypeOf(file), 113);
      const capture = dissectCapture(file);
      const t = onlyTls(capture, peer.port);
      assert.deepEqual(t.problems, []);
      assert.equal(t.helloRetryRequest?.keyShareGroup, 0x1d);
      assert.equal(t.clientHellos.length, 2);
      assert.deepEqual(t.clientHellos[0]!.keyShareGroups, [X25519MLKEM768]);
      assert.deepEqual(t.clientHellos[1]!.keyShareGroups, [0x1d]);
      assert.equal(t.tls13, true);
      assert.equal(t.keyExchangeGroup, 0x1d);
      assert.equal(t.postQuantum, false);
    } finally {
      await peer.close();
    }
  },
);
