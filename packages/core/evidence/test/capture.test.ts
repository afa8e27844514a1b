import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CaptureParser,
  dissectCapture,
  dissectPacket,
  encodeClientHello,
  encodeExtension,
  encodeServerHello,
  EvidenceError,
  findLeaksInCapture,
  locate,
  parseCapture,
  reassembleTcp,
  X25519MLKEM768,
  type CapturedPacket,
} from '../src/index.ts';
import {
  concat,
  conversation,
  ethernet,
  ipv4Packet,
  ipv6Packet,
  pcap,
  pcapng,
  sll,
  sll2,
  tcpSegment,
  tcpv4,
  tlsRecord,
  udpDatagram,
} from './pcap-builder.ts';

const isKind = (kind: EvidenceError['kind']) => (err: unknown) => {
  assert.ok(err instanceof EvidenceError, String(err));
  assert.equal(err.kind, kind);
  return true;
};

const client = { ip: '192.0.2.10', port: 40000 };
const server = { ip: '198.51.100.20', port: 443 };
const hello = conversation(client, server, [
  { fromClient: true, data: Buffer.from('hello server') },
  { fromClient: false, data: Buffer.from('hello client') },
]);

function feed(bytes: Uint8Array, cuts: readonly number[]): CapturedPacket[] {
  const got: CapturedPacket[] = [];
  const p = new CaptureParser({ onPacket: (x) => got.push(x) });
  let from = 0;
  for (const c of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    p.push(bytes.subarray(from, c));
    from = c;
  }
  p.push(bytes.subarray(from));
  p.end();
  return got;
}

test('classic pcap in both byte orders and both precisions reads the same packets', () => {
  for (const littleEndian of [true, false]) {
    for (const nanoseconds of [true, false]) {
      const file = pcap(hello, { littleEndian, nanoseconds });
      const { info, packets } = parseCapture(file);
      assert.deepEqual(info, { format: 'pcap', littleEndian });
      assert.equal(packets.length, hello.length);
      assert.deepEqual(packets[3]!.data, hello[3]);
      assert.equal(packets[0]!.number, 1);
      assert.equal(packets[0]!.fileOffset, 24 + 16);
      assert.equal(packets[0]!.seconds, 1700000000);
      assert.equal(packets[0]!.nanoseconds, nanoseconds ? 123456789 : 123456000);
    }
  }
});

test('pcapng in both byte orders, with an unknown block skipped and if_tsresol read', () => {
  for (const littleEndian of [true, false]) {
    const file = pcapng(hello, { littleEndian, tsresol: 9 });
    const { info, packets } = parseCapture(file);
    assert.deepEqual(info, { format: 'pcapng', littleEndian });
    assert.deepEqual(
      packets.map((p) => p.data),
      hello.map((h) => Uint8Array.from(h)),
    );
    const d = dissectPacket(packets[3]!);
    assert.equal(Buffer.from(d.tcp!.payload).toString(), 'hello server');
  }
});

test('every strict prefix ending inside a record is incomplete; at a boundary it reads fewer packets', () => {
  for (const file of [pcap(hello.slice(0, 3)), pcapng(hello.slice(0, 3))]) {
    const boundaries = new Set<number>();
    const p = new CaptureParser({ onPacket: () => {} });
    for (let k = 0; k < file.length; k++) {
      p.push(file.subarray(k, k + 1));
      if (p.atBoundary) boundaries.add(k + 1);
    }
    for (let k = 0; k < file.length; k++) {
      const prefix = file.subarray(0, k);
      if (boundaries.has(k)) assert.ok(parseCapture(prefix).packets.length < 3, `prefix ${k}`);
      else assert.throws(() => parseCapture(prefix), isKind('incomplete'), `prefix ${k}`);
    }
  }
});

test('chunked and one-byte-at-a-time feeding give the same packets', () => {
  const file = pcap(hello);
  const whole = parseCapture(file).packets;
  assert.deepEqual(feed(file, [...file.keys()]), whole);
  fc.assert(
    fc.property(fc.array(fc.nat()), (cuts) => assert.deepEqual(feed(file, cuts), whole)),
    { numRuns: 50 },
  );
});

test('Ethernet (with a VLAN tag), SLL, SLL2, raw IPv4 and IPv6 all reach TCP and UDP', () => {
  const seg = tcpSegment({
    src: '10.0.0.1',
    dst: '10.0.0.2',
    sport: 1,
    dport: 2,
    seq: 7,
    payload: Buffer.from('x'),
  });
  const ip4 = ipv4Packet('10.0.0.1', '10.0.0.2', 6, seg);
  const v6a = Uint8Array.from(Buffer.from('20010db8000000000000000000000001', 'hex'));
  const v6b = Uint8Array.from(Buffer.from('20010db8000000000000000000000002', 'hex'));
  const ip6 = ipv6Packet(v6a, v6b, 17, udpDatagram(53, 5353, Buffer.from('dns')));
  const cases: [number, Uint8Array, 4 | 6][] = [
    [1, ethernet(ip4, 0x0800, 5), 4],
    [113, sll(ip4), 4],
    [276, sll2(ip6, 0x86dd), 6],
    [101, ip4, 4],
    [229, ip6, 6],
    [0, concat([Uint8Array.of(2, 0, 0, 0), ip4]), 4],
  ];
  for (const [linkType, frame, version] of cases) {
    const [packet] = parseCapture(pcap([frame], { linkType })).packets;
    const d = dissectPacket(packet!);
    assert.equal(d.problem, undefined, `link ${linkType}`);
    assert.equal(d.ip?.version, version);
    if (version === 4) {
      assert.equal(d.ip?.src, '10.0.0.1');
      assert.equal(d.tcp?.seq, 7);
      assert.equal(Buffer.from(d.tcp!.payload).toString(), 'x');
    } else {
      assert.equal(d.ip?.dst, '2001:db8::2');
      assert.equal(Buffer.from(d.udp!.payload).toString(), 'dns');
    }
  }
  const odd = parseCapture(
    pcap(
      [
        ethernet(ip4.subarray(0, 30)),
        ethernet(ipv4Packet('1.1.1.1', '2.2.2.2', 6, seg, 0x2000)),
        Uint8Array.of(1, 2, 3),
      ],
      { linkType: 1 },
    ),
  );
  assert.deepEqual(
    odd.packets.map((p) => dissectPacket(p).problem),
    ['truncated', 'ip-fragment', 'truncated'],
  );
  assert.equal(
    dissectPacket(parseCapture(pcap([ip4], { linkType: 147 })).packets[0]!).problem,
    'unsupported-link',
  );
});

test('reassembly: retransmits dropped, out-of-order put in order, gaps recorded, packets located', () => {
  const c = { src: client.ip, dst: server.ip, sport: client.port, dport: server.port };
  const frames = [
    tcpv4({ ...c, seq: 99, flags: { syn: true } }),
    tcpv4({ ...c, seq: 106, payload: Buffer.from('world') }), // out of order
    tcpv4({ ...c, seq: 100, payload: Buffer.from('hello ') }),
    tcpv4({ ...c, seq: 100, payload: Buffer.from('hello ') }), // retransmit
    tcpv4({ ...c, seq: 108, payload: Buffer.from('rld!') }), // overlap
    tcpv4({ ...c, seq: 200, payload: Buffer.from('after a hole') }),
  ].map((ip) => ethernet(ip));
  const capture = dissectCapture(pcap(frames));
  const [conn] = capture.tcp;
  assert.equal(capture.tcp.length, 1);
  assert.equal(Buffer.from(conn!.toServer.bytes).toString(), 'hello world!after a hole');
  assert.equal(conn!.toServer.duplicateBytes, 6 + 3);
  assert.deepEqual(conn!.toServer.gaps, [{ streamOffset: 12, length: 200 - 112 }]);
  assert.equal(locate(conn!.toServer, 0)?.packet, 3);
  assert.equal(locate(conn!.toServer, 6)?.packet, 2);
  assert.equal(locate(conn!.toServer, 11)?.packet, 5);
  const p2 = capture.packets[1]!;
  assert.equal(locate(conn!.toServer, 6)?.fileOffset, p2.fileOffset + p2.tcp!.payloadOffset);
  assert.equal(locate(conn!.toServer, 99), undefined);
});

test('reassembly: sequence numbers wrap; a new SYN on a closed 4-tuple is a new connection', () => {
  const turns = [
    { fromClient: true, data: new Uint8Array(300).fill(1) },
    { fromClient: true, data: new Uint8Array(300).fill(2) },
  ];
  const wrapping = conversation(client, server, turns, {
    client: 2 ** 32 - 100,
    server: 2 ** 32 - 1,
  });
  const c = { src: client.ip, dst: server.ip, sport: client.port, dport: server.port };
  const closing = [ethernet(tcpv4({ ...c, seq: 500, flags: { rst: true } }))];
  const again = conversation(client, server, [{ fromClient: true, data: Buffer.from('second') }], {
    client: 7,
    server: 9,
  });
  const capture = dissectCapture(pcap([...wrapping, ...closing, ...again]));
  assert.equal(capture.tcp.length, 2);
  assert.equal(capture.tcp[0]!.toServer.bytes.length, 600);
  assert.equal(capture.tcp[0]!.toServer.gaps.length, 0);
  assert.equal(Buffer.from(capture.tcp[1]!.toServer.bytes).toString(), 'second');
  assert.deepEqual(capture.tcp[1]!.client, { address: client.ip, port: client.port });
});

test('reassembly is bounded: pending and stream limits hold', () => {
  const c = { src: client.ip, dst: server.ip, sport: client.port, dport: server.port };
  const frames = [tcpv4({ ...c, seq: 0, payload: new Uint8Array(10) })];
  for (let i = 0; i < 50; i++)
    frames.push(tcpv4({ ...c, seq: 1000 + i * 100, payload: new Uint8Array(100) }));
  const parsed = parseCapture(pcap(frames.map((f) => ethernet(f))));
  const [conn] = reassembleTcp(parsed.packets.map(dissectPacket), {
    maxPendingBytes: 1000,
    maxStreamBytes: 2000,
  });
  assert.equal(conn!.toServer.bytes.length, 2000);
  assert.equal(conn!.toServer.truncated, true);
  assert.ok(conn!.toServer.gaps.length >= 1);
});

/** A TLS 1.3 exchange in records, as the hello facts come out of a capture. */
function tlsFrames(group: number): Uint8Array[] {
  const ch = encodeClientHello({
    legacyVersion: 0x0303,
    random: new Uint8Array(32).fill(1),
    sessionId: new Uint8Array(32).fill(2),
    cipherSuites: [0x1301, 0x1302],
    compressionMethods: [0],
    extensions: [
      encodeExtension.serverName('target.example'),
      encodeExtension.alpn(['h2', 'http/1.1']),
      encodeExtension.supportedGroups([X25519MLKEM768, 0x1d]),
      encodeExtension.clientSupportedVersions([0x0304]),
      encodeExtension.clientKeyShare([
        { group: X25519MLKEM768, keyExchange: new Uint8Array(1216).fill(3) },
      ]),
    ],
  });
  const sh = encodeServerHello({
    legacyVersion: 0x0303,
    random: new Uint8Array(32).fill(4),
    sessionId: new Uint8Array(32).fill(2),
    cipherSuite: 0x1301,
    compressionMethod: 0,
    extensions: [
      encodeExtension.serverSupportedVersion(0x0304),
      encodeExtension.serverKeyShare({ group, keyExchange: new Uint8Array(32).fill(5) }),
    ],
  });
  const record = tlsRecord(22, ch, 0x0301);
  return conversation(client, server, [
    // The ClientHello spans two TCP segments, as a post-quantum one does on a real link.
    { fromClient: true, data: record.subarray(0, 700) },
    { fromClient: true, data: record.subarray(700) },
    {
      fromClient: false,
      data: concat([
        tlsRecord(22, sh),
        tlsRecord(20, Uint8Array.of(1)),
        tlsRecord(23, new Uint8Array(40)),
      ]),
    },
    { fromClient: true, data: tlsRecord(23, new Uint8Array(40)) },
  ]);
}

test('TLS facts from a hand-built capture: SNI, ALPN, groups, selection, packet numbers', () => {
  const capture = dissectCapture(pcap(tlsFrames(X25519MLKEM768)));
  assert.equal(capture.tls.length, 1);
  const t = capture.tls[0]!;
  assert.deepEqual(t.problems, []);
  assert.equal(t.clientHellos[0]!.sni, 'target.example');
  assert.deepEqual(t.clientHellos[0]!.alpn, ['h2', 'http/1.1']);
  assert.deepEqual(t.clientHellos[0]!.keyShareGroups, [X25519MLKEM768]);
  assert.equal(t.clientHellos[0]!.at.packet, 4);
  assert.equal(t.serverHello!.at.packet, 6);
  assert.equal(t.tls13, true);
  assert.equal(t.keyExchangeGroup, X25519MLKEM768);
  assert.equal(t.postQuantum, true);
  const classical = dissectCapture(pcap(tlsFrames(0x1d))).tls[0]!;
  assert.equal(classical.postQuantum, false);
  assert.equal(classical.keyExchangeGroup, 0x1d);
  // The SNI is plaintext: the leak search finds the name in the ClientHello's packet.
  const leaks = findLeaksInCapture(capture, [{ kind: 'dns-name', name: 'target.example' }]);
  assert.equal(leaks.length, 1);
  assert.equal(leaks[0]!.packet, 4);
  assert.match(leaks[0]!.haystack, /^tcp 1 192\.0\.2\.10:40000 → 198\.51\.100\.20:443$/);
});

test('fuzz: mutated and random captures throw only EvidenceError, and dissection never throws', () => {
  const seeds = [
    pcap(tlsFrames(X25519MLKEM768)),
    pcapng(hello),
    pcap(hello, { littleEndian: false, linkType: 113 }),
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.nat(),
      (seed, edits, cut) => {
        const m = Uint8Array.from(seed);
        for (const [i, v] of edits) m[i % m.length] = v;
        for (const input of [m, m.subarray(0, cut % (m.length + 1))]) {
          try {
            dissectCapture(input, { maxPacketBytes: 65536 });
          } catch (err) {
            assert.ok(err instanceof EvidenceError, String(err));
          }
        }
      },
    ),
    { numRuns: 1500 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
      try {
        dissectCapture(concat([pcap([]), junk]));
      } catch (err) {
        assert.ok(err instanceof EvidenceError, String(err));
      }
    }),
  );
});

test('a record longer than the limit fails before it is buffered', () => {
  const file = pcap([new Uint8Array(100)]);
  assert.throws(
    () => parseCapture(file.subarray(0, 24 + 16), { maxPacketBytes: 99 }),
    isKind('too-large'),
  );
  assert.throws(
    () => parseCapture(Buffer.from('not a capture file at all')),
    isKind('unsupported'),
  );
});

test('packets own their bytes: a chunk reused by the caller does not change them', () => {
  const file = Buffer.from(pcap(hello));
  const got: CapturedPacket[] = [];
  const p = new CaptureParser({ onPacket: (x) => got.push(x) });
  const chunk = Buffer.alloc(37);
  for (let at = 0; at < file.length; at += chunk.length) {
    const n = file.copy(chunk, 0, at, at + chunk.length);
    p.push(chunk.subarray(0, n));
  }
  p.end();
  assert.deepEqual(
    got.map((x) => x.data),
    parseCapture(file).packets.map((x) => x.data),
  );
});
