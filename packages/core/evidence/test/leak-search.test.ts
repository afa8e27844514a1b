import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  expandIdentity,
  findLeaks,
  targetIdentities,
  type Finding,
  type Identity,
} from '../src/index.ts';

const forms = (findings: readonly Finding[]): string[] =>
  findings.map((f) => `${f.encoding}:${f.form}`);
const one = (hay: Uint8Array | string, identity: Identity, options = {}): Finding[] =>
  findLeaks({ hay }, [identity], options);
const v4: Identity = { kind: 'ip', address: '192.0.2.7' };
const v6: Identity = { kind: 'ip', address: '2001:db8::7' };

test('IPv4: every text spelling a relay could write, and only standing alone', () => {
  for (const [text, form] of [
    ['peer 192.0.2.7 connected', 'text:dotted-quad'],
    ['"remoteAddress":"::ffff:192.0.2.7"', 'text:ipv4-mapped'],
    ['from ::FFFF:C000:207 ok', 'text:ipv4-mapped:rfc5952'],
    ['0000:0000:0000:0000:0000:ffff:c000:0207', 'text:ipv4-mapped:expanded'],
    ['addr=3221225991;', 'text:integer'],
    ['PTR 7.2.0.192.in-addr.arpa.', 'text:reverse-dns'],
    ['/udp/%3A%3Affff%3A192.0.2.7/53/', 'percent:ipv4-mapped'],
  ] as const) {
    assert.deepEqual(forms(one(text, v4)), [form], text);
  }
  for (const clean of ['10.192.0.2.7', '192.0.2.71', '192.0.2.7.5', '1192.0.2.7', '32212259910']) {
    assert.deepEqual(one(clean, v4), [], clean);
  }
});

test('IPv6: RFC 5952, expanded, uncompressed, other :: placements, upper case, brackets', () => {
  for (const text of [
    'peer 2001:db8::7 x',
    'peer 2001:0db8:0000:0000:0000:0000:0000:0007 x',
    'peer 2001:db8:0:0:0:0:0:7 x',
    'peer 2001:DB8::7 x',
    'peer [2001:db8::7] x',
    '7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
  ]) {
    assert.equal(one(text, v6).length, 1, text);
  }
  const other = { kind: 'ip', address: '2001:db8:0:1::' } as const;
  assert.deepEqual(forms(one('at 2001:db8:0:1:: and 2001:db8::1:0:0:0:0', other)), [
    'text:rfc5952',
    'text:compressed',
  ]);
  for (const clean of [
    '2001:db8::71',
    '12001:db8::7',
    '2001:db8::7:1',
    'fe80::2001:db8::7'.replace('::2001', ':2001'),
  ]) {
    assert.deepEqual(one(clean, v6), [], clean);
  }
});

test('raw bytes in network order, hex either case, base64 and base64url at every alignment', () => {
  const raw = Uint8Array.of(192, 0, 2, 7);
  assert.deepEqual(forms(one(Buffer.concat([Buffer.from('xx'), raw]), v4)), ['raw:ipv4']);
  assert.deepEqual(forms(one('c0000207', v4)), ['hex:ipv4']);
  assert.deepEqual(forms(one('C0000207', v4)), ['hex:ipv4']);
  assert.deepEqual(
    forms(one(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7]), v4)),
    ['raw:ipv4-mapped'],
  );
  const nonce = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
  const id: Identity = { kind: 'bytes', bytes: nonce, label: 'nonce' };
  for (let prefix = 0; prefix < 6; prefix++) {
    const blob = Buffer.concat([Buffer.alloc(prefix, 0xee), nonce, Buffer.from('tail')]);
    for (const enc of ['base64', 'base64url'] as const) {
      const text = `token="${blob.toString(enc)}"`;
      const found = one(text, id);
      assert.deepEqual(forms(found), ['base64:bytes'], `${enc} prefix ${prefix}`);
      // The match covers the characters carrying the nonce's bits.
      const at = found[0]!.offset - 'token="'.length;
      assert.equal(at, Math.floor((prefix * 8) / 6));
    }
  }
  // Off by one bit is not a match.
  const flipped = Uint8Array.from(nonce);
  flipped[31]! ^= 1;
  assert.deepEqual(one(Buffer.from(flipped).toString('base64'), id), []);
  flipped[31]! ^= 1;
  flipped[0]! ^= 0x80;
  assert.deepEqual(one(`x${Buffer.from(flipped).toString('base64')}`, id), []);
});

test('DNS names: any case, wire format, subdomains found, longer names not', () => {
  const name: Identity = { kind: 'dns-name', name: 'target.example' };
  assert.deepEqual(forms(one('Host: TARGET.Example\r\n', name)), ['text:name']);
  assert.deepEqual(forms(one('GET https://www.target.example/ x', name)), ['text:name']);
  const wire = Buffer.from([
    0x12,
    0x34,
    1,
    0,
    0,
    1,
    6,
    ...Buffer.from('TaRgEt'),
    7,
    ...Buffer.from('example'),
    0,
    0,
    1,
  ]);
  assert.deepEqual(forms(one(wire, name)), ['dns-wire:name']);
  const pointer = Buffer.from([
    6,
    ...Buffer.from('target'),
    7,
    ...Buffer.from('example'),
    0xc0,
    0x0c,
  ]);
  assert.deepEqual(forms(one(pointer, name)), ['dns-wire:name']);
  for (const clean of [
    'nottarget.example',
    'target.example.org',
    'target.examples',
    'target-example',
  ]) {
    assert.deepEqual(one(clean, name), [], clean);
  }
  assert.deepEqual(
    one(
      Buffer.from([
        6,
        ...Buffer.from('target'),
        7,
        ...Buffer.from('example'),
        3,
        ...Buffer.from('org'),
        0,
      ]),
      name,
    ),
    [],
  );
  assert.deepEqual(
    forms(one(`dns=${Buffer.from('q target.example q').toString('base64')}`, name)),
    ['base64:name'],
  );
});

test('endpoints: host:port, [v6]:port, SOCKS5, sockaddr and PROXY v2 layouts', () => {
  const ep4: Identity = { kind: 'endpoint', host: '192.0.2.7', port: 4433 };
  const ep6: Identity = { kind: 'endpoint', host: '2001:db8::7', port: 4433 };
  const epName: Identity = { kind: 'endpoint', host: 'target.example', port: 4433 };
  assert.deepEqual(forms(one('CONNECT 192.0.2.7:4433 HTTP/1.1', ep4)), ['text:dotted-quad:port']);
  assert.deepEqual(one('CONNECT 192.0.2.7:44330 HTTP/1.1', ep4), []);
  assert.deepEqual(forms(one('CONNECT [2001:db8::7]:4433 HTTP/1.1', ep6)), ['text:[rfc5952]:port']);
  assert.deepEqual(forms(one('peer "2001:db8::7:4433"', ep6)), ['text:rfc5952:port']);
  assert.deepEqual(forms(one('x-leak: target.example:4433', epName)), ['text:name:port']);
  assert.deepEqual(forms(one('/udp/target.example%3A4433', epName)), ['percent:name:port']);
  // SOCKS5 CONNECT (RFC 1928 §4): VER CMD RSV ATYP=3 len name port.
  const socks = Buffer.from([5, 1, 0, 3, 14, ...Buffer.from('target.example'), 0x11, 0x51]);
  assert.deepEqual(forms(one(socks, epName)), ['raw:socks5-domain']);
  assert.deepEqual(forms(one(Buffer.from([5, 0, 0, 1, 192, 0, 2, 7, 0x11, 0x51]), ep4)), [
    'raw:ipv4+port',
  ]);
  assert.deepEqual(forms(one(Buffer.from([2, 0, 0x11, 0x51, 192, 0, 2, 7, 0, 0]), ep4)), [
    'raw:port+ipv4',
  ]);
  // PROXY v2, TCP over IPv4: src 192.0.2.7:4433 → dst 203.0.113.1:443.
  const proxy = Buffer.concat([
    Buffer.from('0d0a0d0a000d0a515549540a', 'hex'),
    Buffer.from([0x21, 0x11, 0, 12, 192, 0, 2, 7, 203, 0, 113, 1, 0x11, 0x51, 0x01, 0xbb]),
  ]);
  assert.deepEqual(forms(one(proxy, ep4)), ['raw:proxy-v2-src:ipv4']);
  const asDst = { kind: 'endpoint', host: '203.0.113.1', port: 443 } as const;
  assert.deepEqual(forms(one(proxy, asDst)), ['raw:proxy-v2-dst:ipv4']);
});

test('a bare port is found only where text says it is a port', () => {
  const port: Identity = { kind: 'port', port: 4433 };
  for (const [text, form] of [
    ['Host: x:4433\r\n', 'port-in-authority'],
    ['CONNECT [::1]:4433 HTTP/1.1', 'port-in-authority'],
    ['{"remotePort":4433}', 'port-field'],
    ['dst_port = 4433;', 'port-field'],
    ['/.well-known/masque/udp/192.0.2.7/4433/', 'port-in-udp-path'],
  ] as const) {
    assert.deepEqual(forms(one(text, port)), [`text:${form}`], text);
  }
  for (const clean of [
    'bytes=4433',
    'took 4433 ms',
    '2001:db8:0:4433::1',
    'x:44330',
    'at 12:4433:10',
    Buffer.from([0x11, 0x51, 0x11, 0x51]),
  ]) {
    assert.deepEqual(one(clean, port), [], String(clean));
  }
  // What the party may see for another reason is declared, not a finding.
  const egress443: Identity = { kind: 'port', port: 443 };
  assert.equal(one('CONNECT egress-1:443 HTTP/1.1', egress443).length, 1);
  assert.deepEqual(
    one('CONNECT egress-1:443 HTTP/1.1', egress443, { allow: ['egress-1:443'] }),
    [],
  );
});

test('literal text and credentials, and findings name the leak with a printable window', () => {
  const cred: Identity = { kind: 'text', text: 'sub-Secret/42', label: 'credential' };
  assert.deepEqual(forms(one('Authorization: Bearer sub-Secret/42\r\n', cred)), ['text:literal']);
  assert.deepEqual(one('sub-secret/42', cred), [], 'a literal keeps its case');
  assert.deepEqual(forms(one(`Basic ${Buffer.from('u:sub-Secret/42').toString('base64')}`, cred)), [
    'base64:literal',
  ]);
  assert.deepEqual(forms(one('?c=sub-Secret%2F42', cred)), ['percent:literal']);
  const [f] = findLeaks({ 'ingress.log': Buffer.from('\x00\x01peer 192.0.2.7\n') }, [v4], {
    contextBytes: 4,
  });
  assert.deepEqual(f, {
    identity: 'address 192.0.2.7',
    identityKind: 'ip',
    form: 'dotted-quad',
    encoding: 'text',
    haystack: 'ingress.log',
    offset: 7,
    length: 9,
    context: 'eer 192.0.2.7.',
  });
});

test('targetIdentities covers name, address, both with the port, and the port', () => {
  const ids = targetIdentities({ name: 'target.example', ip: '192.0.2.7', port: 4433 });
  const found = findLeaks({ log: 'CONNECT target.example:4433 via 192.0.2.7:4433 port=4433' }, ids);
  assert.deepEqual([...new Set(found.map((f) => f.identity))].sort(), [
    'address 192.0.2.7',
    'endpoint 192.0.2.7:4433',
    'endpoint target.example:4433',
    'name target.example',
    'port 4433',
  ]);
});

test('fast-check: an address written in any of its forms inside random bytes is found', () => {
  const address = fc.oneof(
    fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.')),
    fc
      .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
      .map((g) => g.map((x) => x.toString(16)).join(':')),
  );
  fc.assert(
    fc.property(
      address,
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.nat(),
      (addr, before, after, pick) => {
        const identity: Identity = { kind: 'ip', address: addr };
        const needles = expandIdentity(identity).filter(
          (n) => n.type === 'bytes' && n.encoding !== 'percent',
        );
        const needle = needles[pick % needles.length]!;
        if (needle.type !== 'bytes') return;
        // Separators keep random neighbours from extending a text spelling.
        const hay = Buffer.concat([
          before,
          Buffer.from(' '),
          needle.bytes,
          Buffer.from(' '),
          after,
        ]);
        assert.ok(one(hay, identity).length > 0, `${needle.encoding}:${needle.form}`);
      },
    ),
    { numRuns: 300 },
  );
});

test('fast-check: bytes inside base64 of random surroundings are always found', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 3, maxLength: 40 }),
      fc.uint8Array({ maxLength: 20 }),
      fc.uint8Array({ maxLength: 20 }),
      fc.boolean(),
      (needle, before, after, url) => {
        const text = Buffer.concat([before, needle, after]).toString(url ? 'base64url' : 'base64');
        assert.ok(one(text, { kind: 'bytes', bytes: needle }).some((f) => f.encoding === 'base64'));
      },
    ),
    { numRuns: 500 },
  );
});

test('fuzz: random haystacks never throw and findings stay inside their haystack', () => {
  const ids = [
    ...targetIdentities({ name: 'target.example', ip: '192.0.2.7', port: 443 }),
    v6,
    { kind: 'bytes', bytes: Uint8Array.of(1, 2, 3, 4) } as Identity,
  ];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (hay) => {
      for (const f of findLeaks({ hay }, ids)) {
        assert.ok(f.offset >= 0 && f.offset + f.length <= hay.length);
      }
    }),
    { numRuns: 300 },
  );
  assert.throws(() => expandIdentity({ kind: 'ip', address: 'not-an-ip' }), RangeError);
  assert.throws(() => expandIdentity({ kind: 'port', port: 70000 }), RangeError);
  assert.throws(() => expandIdentity({ kind: 'bytes', bytes: new Uint8Array(0) }), RangeError);
});
