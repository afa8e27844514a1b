import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { formatIPv4, formatIpText } from '@splitrelay/authority';

// The socket tables print addresses as authority's formatIpText does (mapped as a quad).
const formatIpv6 = formatIpText;
const formatIpv4 = formatIpText;
import { parseProcNet, parseSs, withOwners, type SocketEntry } from '../src/sockets.ts';

// Recorded from `ss -tunapH` and /proc/net/* in a namespace holding IPv4 and IPv6 listeners,
// a dual-stack listener, two TCP connections and two UDP sockets (pids replaced by 4242).
const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const key = (e: SocketEntry): string =>
  `${e.protocol}${e.family} ${e.state} ${e.local.address === '*' ? '::' : e.local.address}:${e.local.port} ${
    e.remote ? `${e.remote.address}:${e.remote.port}` : '-'
  }`;

test('ss fixture: every socket with state, endpoints and owner', () => {
  const entries = parseSs(fixture('ss-tunapH.txt'));
  assert.equal(entries.length, 9);
  assert.deepEqual(entries[0], {
    protocol: 'udp',
    family: 4,
    state: 'UNCONN',
    local: { address: '192.0.2.2', port: 5353 },
    remote: undefined,
    owners: [{ name: 'node-MainThread', pid: 4242, fd: 25 }],
  });
  assert.deepEqual(entries[1]!.remote, { address: '2001:db8:0:1::2', port: 53 });
  const established = entries.filter((e) => e.protocol === 'tcp' && e.state === 'ESTAB');
  assert.equal(established.length, 4);
  assert.ok(
    established.some((e) => e.local.port === 8443 && e.remote?.address === '2001:db8:0:1::2'),
  );
  const dual = entries.find((e) => e.local.port === 9000)!;
  assert.equal(dual.local.address, '*');
  assert.equal(dual.family, 6);
  assert.equal(dual.remote, undefined);
});

test('/proc/net fixtures give the same sockets as ss', () => {
  const proc = [
    ...parseProcNet(fixture('proc-net-tcp.txt'), {
      protocol: 'tcp',
      family: 4,
      littleEndian: true,
    }),
    ...parseProcNet(fixture('proc-net-tcp6.txt'), {
      protocol: 'tcp',
      family: 6,
      littleEndian: true,
    }),
    ...parseProcNet(fixture('proc-net-udp.txt'), {
      protocol: 'udp',
      family: 4,
      littleEndian: true,
    }),
    ...parseProcNet(fixture('proc-net-udp6.txt'), {
      protocol: 'udp',
      family: 6,
      littleEndian: true,
    }),
  ];
  const ss = parseSs(fixture('ss-tunapH.txt'));
  assert.deepEqual(proc.map(key).sort(), ss.map(key).sort());
  for (const e of proc) assert.ok(typeof e.inode === 'number' && e.inode > 0);
});

test('/proc owners come from the inode map', () => {
  const [first] = parseProcNet(fixture('proc-net-tcp.txt'), {
    protocol: 'tcp',
    family: 4,
    littleEndian: true,
  });
  const owned = withOwners([first!], new Map([[first!.inode!, [{ name: 'node', pid: 7, fd: 3 }]]]));
  assert.deepEqual(owned[0]!.owners, [{ name: 'node', pid: 7, fd: 3 }]);
});

test('ss: header, scope ids, mapped addresses, several owners, no owner, junk', () => {
  const text = [
    'Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process',
    'udp   UNCONN 0      0      127.0.0.53%lo:53   0.0.0.0:*',
    'tcp   LISTEN 0      4096   [fe80::1%eth0]:22  [::]:*   users:(("sshd",pid=10,fd=3),("sshd",pid=11,fd=3))',
    'tcp   ESTAB  0      0      [::ffff:192.0.2.2]:443 [::ffff:198.51.100.2]:5000 users:(("odd \\"name\\"",pid=12,fd=9))',
    'tcp   TIME-WAIT 0   0      198.51.100.2:40000 203.0.113.2:443',
    'u_str ESTAB  0      0      * 123 * 124',
    'tcp   LISTEN 0      1      198.51.100.2:99999 0.0.0.0:*',
    'garbage',
    '',
  ].join('\n');
  const entries = parseSs(text);
  assert.equal(entries.length, 4);
  assert.deepEqual(entries[0]!.local, { address: '127.0.0.53', port: 53 });
  assert.deepEqual(entries[1]!.local, { address: 'fe80::1', port: 22 });
  assert.deepEqual(
    entries[1]!.owners.map((o) => o.pid),
    [10, 11],
  );
  assert.equal(entries[2]!.remote?.address, '::ffff:198.51.100.2');
  assert.equal(entries[2]!.owners[0]!.name, 'odd \\"name\\"');
  assert.deepEqual(entries[3]!.owners, []);
  assert.equal(entries[3]!.state, 'TIME-WAIT');
});

test('IPv6 text follows RFC 5952', () => {
  const bytes = (text: string): Uint8Array => {
    // Expand a full 8-group spelling (the test inputs are written out in full).
    const out = new Uint8Array(16);
    text.split(':').forEach((g, i) => {
      const n = parseInt(g, 16);
      out[i * 2] = n >> 8;
      out[i * 2 + 1] = n & 255;
    });
    return out;
  };
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // §4.1, §4.2.1
    ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'], // §4.2.2: one 0 stays
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // §4.2.3: first of equal runs
    ['2001:0000:0000:0001:0000:0000:0000:0001', '2001:0:0:1::1'], // §4.2.3: longest run
    ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['fe80:0000:0000:0000:0000:0000:0000:0000', 'fe80::'],
    ['0000:0000:0000:0000:0000:ffff:c000:0202', '::ffff:192.0.2.2'], // §5
    ['2001:0DB8:AAAA:BBBB:CCCC:DDDD:EEEE:0001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'], // §4.3
  ];
  for (const [input, expected] of cases) assert.equal(formatIpv6(bytes(input)), expected, input);
  assert.throws(() => formatIPv4(new Uint8Array(16)), RangeError);
});

test('formatted IPv6 agrees with the URL parser (another RFC 5952 writer) on non-mapped addresses', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      fc.pre(!(b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff));
      const text = formatIpv6(b);
      assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
    }),
  );
});

const procHex = (bytes: Uint8Array, littleEndian: boolean): string => {
  let hex = '';
  for (let w = 0; w < bytes.length; w += 4) {
    const word = Array.from(bytes.subarray(w, w + 4));
    if (littleEndian) word.reverse();
    hex += word.map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join('');
  }
  return hex;
};

test('/proc addresses decode in either byte order (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.boolean(),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 1, max: 65535 }),
      fc.integer({ min: 1, max: 65535 }),
      (v6, le, raw, lport, rport) => {
        const bytes = v6 ? raw : raw.subarray(0, 4);
        const port = (p: number): string => p.toString(16).padStart(4, '0').toUpperCase();
        const line = `   0: ${procHex(bytes, le)}:${port(lport)} ${procHex(bytes, le)}:${port(rport)} 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 20 4 30 10 -1`;
        const header =
          '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
        const [e] = parseProcNet(`${header}\n${line}\n`, {
          protocol: 'tcp',
          family: v6 ? 6 : 4,
          littleEndian: le,
        });
        const text = v6 ? formatIpv6(bytes) : formatIpv4(bytes);
        assert.deepEqual(e?.local, { address: text, port: lport });
        assert.equal(e?.state, 'ESTAB');
        assert.equal(e?.inode, 777);
      },
    ),
  );
});

test('ss lines written from generated sockets parse back (fast-check)', () => {
  const arbAddress = fc.oneof(
    fc
      .uint8Array({ minLength: 4, maxLength: 4 })
      .map((b) => ({ family: 4 as const, text: formatIpv4(b) })),
    fc
      .uint8Array({ minLength: 16, maxLength: 16 })
      .map((b) => ({ family: 6 as const, text: formatIpv6(b) })),
  );
  fc.assert(
    fc.property(
      fc.constantFrom('tcp', 'udp'),
      fc.constantFrom('ESTAB', 'SYN-SENT', 'CLOSE-WAIT', 'FIN-WAIT-1'),
      arbAddress,
      fc.integer({ min: 1, max: 65535 }),
      fc.integer({ min: 1, max: 65535 }),
      fc.array(fc.record({ pid: fc.integer({ min: 1, max: 4194304 }), fd: fc.nat(1 << 20) }), {
        maxLength: 3,
      }),
      (protocol, state, addr, lport, rport, owners) => {
        fc.pre(addr.text !== '0.0.0.0' && addr.text !== '::');
        const ep = (p: number): string =>
          addr.family === 6 ? `[${addr.text}]:${p}` : `${addr.text}:${p}`;
        const users = owners.length
          ? `users:(${owners.map((o) => `("n",pid=${o.pid},fd=${o.fd})`).join(',')})`
          : '';
        const [e] = parseSs(`${protocol} ${state} 0 0 ${ep(lport)} ${ep(rport)} ${users}`);
        assert.deepEqual(e, {
          protocol,
          family: addr.family,
          state,
          local: { address: addr.text, port: lport },
          remote: { address: addr.text, port: rport },
          owners: owners.map((o) => ({ name: 'n', pid: o.pid, fd: o.fd })),
        });
      },
    ),
  );
});

test('random and mutated tables never throw', () => {
  const ss = fixture('ss-tunapH.txt');
  const tcp6 = fixture('proc-net-tcp6.txt');
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), fc.nat(), fc.nat(), (junk, at1, at2) => {
      parseSs(junk);
      parseProcNet(junk, { protocol: 'udp', family: 6, littleEndian: true });
      const cut = (s: string, i: number): string =>
        s.slice(0, i % (s.length + 1)) + junk + s.slice(i % (s.length + 1));
      for (const e of parseSs(cut(ss, at1))) assert.ok(e.local.port >= 0 && e.local.port <= 65535);
      parseProcNet(cut(tcp6, at2), { protocol: 'tcp', family: 6, littleEndian: true });
    }),
  );
});
