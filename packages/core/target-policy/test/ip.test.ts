import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { formatIp, parseIp, parseIPv4, parseIPv6, type IpAddress } from '../src/index.ts';

const hex = (ip: IpAddress | undefined): string | undefined =>
  ip === undefined ? undefined : Buffer.from(ip.bytes).toString('hex');

test('IPv4: canonical dotted quads only', () => {
  assert.equal(hex(parseIPv4('127.0.0.1')), '7f000001');
  assert.equal(hex(parseIPv4('0.0.0.0')), '00000000');
  assert.equal(hex(parseIPv4('255.255.255.255')), 'ffffffff');
  // inet_aton shorthand and octal-looking forms are not addresses here.
  for (const bad of [
    '127.1',
    '0x7f.0.0.1',
    '2130706433',
    '010.0.0.1',
    '1.2.3.256',
    '1.2.3',
    '1.2.3.4.5',
    '',
    ' 1.2.3.4',
    '1.2.3.-4',
    '1..3.4',
  ]) {
    assert.equal(parseIPv4(bad), undefined, bad);
  }
});

test('IPv6: RFC 4291 §2.2 text forms', () => {
  const cases: Array<[string, string]> = [
    ['::', '00'.repeat(16)],
    ['::1', `${'00'.repeat(15)}01`],
    ['2001:db8::8:800:200c:417a', '20010db8000000000008080020 0c417a'.replace(' ', '')],
    ['2001:DB8:0:0:8:800:200C:417A', '20010db8000000000008080020 0c417a'.replace(' ', '')],
    ['ff01::101', `ff01${'00'.repeat(12)}0101`],
    ['::ffff:127.0.0.1', `${'00'.repeat(10)}ffff7f000001`],
    ['::13.1.68.3', `${'00'.repeat(12)}0d014403`],
    ['0:0:0:0:0:ffff:129.144.52.38', `${'00'.repeat(10)}ffff81903426`],
    ['1::', `0001${'00'.repeat(14)}`],
    ['1:2:3:4:5:6:7::', '0001000200030004000500060007 0000'.replace(' ', '')],
    ['::2:3:4:5:6:7:8', '0000000200030004000500060007 0008'.replace(' ', '')],
  ];
  for (const [text, bytes] of cases) assert.equal(hex(parseIPv6(text)), bytes, text);
  for (const bad of [
    ':',
    ':::',
    '1:::2',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::',
    'g::1',
    '::ffff:1.2.3',
    '1:2:3:4:5:6:7:1.2.3.4',
    ':1::',
    'fe80::1%eth0',
    '[::1]',
    '::1.2.3.4:5',
  ]) {
    assert.equal(parseIPv6(bad), undefined, bad);
  }
});

test('formatIp follows RFC 5952', () => {
  const cases: Array<[string, string]> = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first run on a tie (§4.2.3)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed (§4.2.2)
    ['2001:DB8::AB', '2001:db8::ab'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::ffff:7f00:1', '::ffff:127.0.0.1'], // §5: mapped addresses show their quad
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
  ];
  for (const [input, want] of cases)
    assert.equal(formatIp(parseIp(input) as IpAddress), want, input);
});

const v6Bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });
const v6WithZeros = fc
  .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
    minLength: 8,
    maxLength: 8,
  })
  .map((groups) => {
    const b = new Uint8Array(16);
    groups.forEach((g, i) => {
      b[2 * i] = g >> 8;
      b[2 * i + 1] = g & 0xff;
    });
    return b;
  });

test('fast-check: format then parse round-trips, and agrees with node:net and WHATWG URL', () => {
  fc.assert(
    fc.property(fc.oneof(v6Bytes, v6WithZeros), (bytes) => {
      const text = formatIp({ family: 6, bytes });
      assert.equal(net.isIPv6(text), true);
      assert.deepEqual(parseIPv6(text)?.bytes, bytes);
      if (!text.includes('.')) assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
      const text = formatIp({ family: 4, bytes });
      assert.equal(net.isIPv4(text), true);
      assert.deepEqual(parseIPv4(text)?.bytes, bytes);
    }),
  );
});

test('fast-check: parseIp accepts exactly what node:net calls an IP (zone ids aside)', () => {
  const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.%x'.split(''));
  fc.assert(
    fc.property(fc.string({ unit: alphabet, maxLength: 46 }), (text) => {
      const ours = parseIp(text) !== undefined;
      const node = net.isIP(text) !== 0 && !text.includes('%');
      // node:net accepts leading-zero IPv4 inside IPv6 ("::01.2.3.4"); we do not (RFC 6943).
      if (node && !ours && /(^|[:.])0\d/.test(text.slice(text.lastIndexOf(':') + 1))) return;
      assert.equal(ours, node, text);
    }),
    { numRuns: 20000 },
  );
});

/** Any RFC 4291 spelling of the given bytes: padded or not, any case, any "::" run, quad tail. */
const v6Spelling = fc
  .record({
    bytes: v6WithZeros,
    pad: fc.boolean(),
    upper: fc.boolean(),
    quad: fc.boolean(),
    gapAt: fc.nat(8),
    gapLen: fc.nat(8),
  })
  .map(({ bytes, pad, upper, quad, gapAt, gapLen }) => {
    const n = quad ? 6 : 8;
    let groups: string[] = [];
    for (let i = 0; i < n; i++) {
      const g = ((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number);
      const s = g.toString(16);
      groups.push(pad ? s.padStart(4, '0') : s);
    }
    // Compress a run of zero groups if the chosen window is all zeros.
    const start = Math.min(gapAt, n);
    const len = Math.min(gapLen, n - start);
    let text: string;
    if (len >= 1 && groups.slice(start, start + len).every((g) => /^0+$/.test(g))) {
      groups = [...groups.slice(0, start), '', ...groups.slice(start + len)];
      text = groups.join(':');
      if (text === '') text = '::';
      else if (text.startsWith(':')) text = `:${text}`;
      else if (text.endsWith(':')) text = `${text}:`;
    } else {
      text = groups.join(':');
    }
    if (quad) {
      const q = `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
      text = text.endsWith('::') ? `${text}${q}` : `${text}:${q}`;
    }
    return { text: upper ? text.toUpperCase() : text, bytes };
  });

test('fast-check: every spelling of an IPv6 address parses to its bytes, as node:net agrees', () => {
  fc.assert(
    fc.property(v6Spelling, ({ text, bytes }) => {
      assert.equal(net.isIPv6(text), true, text);
      assert.deepEqual(parseIPv6(text)?.bytes, bytes, text);
    }),
    { numRuns: 5000 },
  );
});
