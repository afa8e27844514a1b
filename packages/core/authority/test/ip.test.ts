import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { formatIPv4, formatIPv6, formatIpText, parseIPv4, parseIPv6 } from '../src/index.ts';

test('strict IPv4 accepts dotted quads and nothing lenient', () => {
  assert.deepEqual(parseIPv4('127.0.0.1'), Uint8Array.of(127, 0, 0, 1));
  assert.deepEqual(parseIPv4('255.255.255.255'), Uint8Array.of(255, 255, 255, 255));
  assert.deepEqual(parseIPv4('0.0.0.0'), Uint8Array.of(0, 0, 0, 0));
  for (const bad of [
    '01.2.3.4',
    '1.2.3',
    '0x7f.1',
    '2130706433',
    '1.2.3.256',
    '1.2.3.4.',
    ' 1.2.3.4',
    '1..2.3',
    '+1.2.3.4',
    '1.2.3.4/8',
  ]) {
    assert.equal(parseIPv4(bad), undefined, bad);
  }
});

test('IPv6 examples from RFC 4291 §2.2 and RFC 5952 §4', () => {
  const cases: [string, string][] = [
    ['2001:DB8:0:0:8:800:200C:417A', '2001:db8::8:800:200c:417a'],
    ['FF01:0:0:0:0:0:0:101', 'ff01::101'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::13.1.68.3', '::d01:4403'],
    ['::FFFF:129.144.52.38', '::ffff:8190:3426'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3: the first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: a single 0 is not shortened
    ['2001:0db8::0001', '2001:db8::1'], // §4.1: leading zeros dropped
  ];
  for (const [input, canonical] of cases) {
    const bytes = parseIPv6(input);
    assert.ok(bytes, input);
    assert.equal(formatIPv6(bytes), canonical, input);
  }
  for (const bad of [
    '',
    ':',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '::1%eth0',
    '12345::',
    '::1.2.3',
    '::01.2.3.4',
    '1::2:3:4:5:6:7:8',
    ':1::',
    '1:',
  ]) {
    assert.equal(parseIPv6(bad), undefined, bad);
  }
});

test('IPv6 acceptance agrees with node:net and the form with WHATWG URL (property)', () => {
  // Mostly near-valid shapes: groups, maybe one or two `::`, maybe a trailing quad.
  const hex = fc.constantFrom(...'0123456789abcdefABCDEF');
  const group = fc.oneof(
    { weight: 9, arbitrary: fc.string({ unit: hex, minLength: 1, maxLength: 4 }) },
    { weight: 1, arbitrary: fc.string({ unit: hex, maxLength: 6 }) },
  );
  const octet = fc.oneof(
    { weight: 9, arbitrary: fc.nat(255).map(String) },
    fc.constantFrom('01', '256', ''),
  );
  const quad = fc.oneof(
    { weight: 4, arbitrary: fc.array(octet, { minLength: 4, maxLength: 4 }) },
    fc.array(octet, { minLength: 1, maxLength: 5 }),
  );
  const shaped = fc
    .tuple(
      fc.array(group, { maxLength: 9 }),
      fc.array(fc.nat(8), { maxLength: 2 }),
      fc.option(quad, { freq: 4 }),
    )
    .map(([groups, gaps, v4]) => {
      const body = v4 ? [...groups.slice(0, 6), v4.join('.')] : groups.slice(0, 8);
      const parts = [...body];
      for (const g of gaps) parts.splice(Math.min(g, parts.length), 0, '');
      let text = parts.join(':');
      // An empty first or last part needs a second colon to be a `::`.
      if (text.startsWith(':') && !text.startsWith('::')) text = `:${text}`;
      if (text.endsWith(':') && !text.endsWith('::')) text = `${text}:`;
      return text;
    });
  const v6ish = fc.oneof(
    shaped,
    fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.'), maxLength: 46 }),
  );
  fc.assert(
    fc.property(v6ish, (s) => {
      const bytes = parseIPv6(s);
      assert.equal(bytes !== undefined, isIPv6(s), s);
      if (bytes) assert.equal(`[${formatIPv6(bytes)}]`, new URL(`http://[${s}]/`).hostname);
    }),
    { numRuns: 3000 },
  );
});

test('IPv4 acceptance agrees with node:net (property)', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'0123456789.x'), maxLength: 16 }), (s) => {
      assert.equal(parseIPv4(s) !== undefined, isIPv4(s), s);
    }),
    { numRuns: 3000 },
  );
});

test('bytes → text → bytes round trips (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      assert.deepEqual(parseIPv6(formatIPv6(b)), b);
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
      assert.deepEqual(parseIPv4(formatIPv4(b)), b);
    }),
  );
});

test('formatIpText: a quad, RFC 5952, and IPv4-mapped in mixed notation (RFC 5952 §5)', () => {
  const v6 = (text: string): Uint8Array => parseIPv6(text) as Uint8Array;
  assert.equal(formatIpText(parseIPv4('192.0.2.1') as Uint8Array), '192.0.2.1');
  assert.equal(formatIpText(v6('2001:DB8:0:0:0:0:0:1')), '2001:db8::1');
  assert.equal(formatIpText(v6('::ffff:c000:201')), '::ffff:192.0.2.1');
  // Only the mapped prefix gets the quad: the IPv4-compatible and translated forms do not.
  assert.equal(formatIpText(v6('::c000:201')), '::c000:201');
  assert.equal(formatIpText(v6('::ffff:0:c000:201')), '::ffff:0:c000:201');
  assert.throws(() => formatIpText(new Uint8Array(5)), RangeError);
});
