import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clientAddressKey } from '../src/index.ts';

test('an IPv4 address is its own key', () => {
  assert.equal(clientAddressKey('192.0.2.7'), '192.0.2.7');
  assert.notEqual(clientAddressKey('192.0.2.7'), clientAddressKey('192.0.2.8'));
});

test('an IPv4-mapped IPv6 address counts as its IPv4 address, in every spelling', () => {
  for (const spelling of [
    '::ffff:192.0.2.7',
    '::FFFF:192.0.2.7',
    '0:0:0:0:0:ffff:192.0.2.7',
    '::ffff:c000:207',
    '0000:0000:0000:0000:0000:FFFF:C000:0207',
  ]) {
    assert.equal(clientAddressKey(spelling), '192.0.2.7', spelling);
  }
});

test('other IPv6 addresses count by their /64, compressed or not', () => {
  const key = '2001:db8:1:2::/64';
  for (const spelling of [
    '2001:db8:1:2::1',
    '2001:db8:1:2:ffff:ffff:ffff:ffff',
    '2001:0DB8:0001:0002:0000:0000:0000:0000',
    '2001:db8:1:2::',
    '2001:db8:1:2:3::4',
    '2001:db8:1:2:0:0:192.0.2.1',
    '2001:db8:1:2::192.0.2.1',
  ]) {
    assert.equal(clientAddressKey(spelling), key, spelling);
  }
  assert.equal(clientAddressKey('2001:db8:1:3::1'), '2001:db8:1:3::/64');
  assert.equal(clientAddressKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientAddressKey('2001:db8::1:2:3:4'), '2001:db8:0:0::/64');
  assert.equal(clientAddressKey('::1'), '0:0:0:0::/64');
  assert.equal(clientAddressKey('::'), '0:0:0:0::/64');
});

test('a zone id names our interface, not the peer: it is dropped', () => {
  assert.equal(clientAddressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(clientAddressKey('fe80::abcd:1%2'), 'fe80:0:0:0::/64');
  assert.equal(clientAddressKey('FE80::1%En0'), 'fe80:0:0:0::/64');
});

test('text that is not an address keys as itself and never throws', () => {
  for (const odd of [
    '',
    'unknown',
    '1::2::3',
    ':::',
    '2001:db8:1:2:3:4:5:6:7',
    '::ffff:1.2.3.256',
  ]) {
    assert.equal(typeof clientAddressKey(odd), 'string', odd);
  }
  assert.equal(clientAddressKey('1::2::3'), '1::2::3');
  fc.assert(fc.property(fc.string(), (s) => typeof clientAddressKey(s) === 'string'));
});

const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
const groups = fc.array(group, { minLength: 8, maxLength: 8 });

/** Some RFC 4291 §2.2 spelling of these groups: any zero run compressed, any padding and case. */
const spelling = (g: readonly number[]) =>
  fc
    .record({
      pad: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      upper: fc.boolean(),
      compress: fc.nat(),
      zone: fc.option(fc.constantFrom('eth0', '1', 'wlan0'), { nil: undefined }),
    })
    .map(({ pad, upper, compress, zone }) => {
      const parts = g.map((v, i) => (pad[i] ? v.toString(16).padStart(4, '0') : v.toString(16)));
      // Every run of zero groups [from, to) may be the one written as `::`; or none is.
      const runs: [number, number][] = [];
      for (let from = 0; from < 8; from++) {
        for (let to = from; to < 8 && g[to] === 0; to++) runs.push([from, to + 1]);
      }
      const run = runs[compress % (runs.length + 1)];
      let text = run
        ? `${parts.slice(0, run[0]).join(':')}::${parts.slice(run[1]).join(':')}`
        : parts.join(':');
      if (upper) text = text.toUpperCase();
      return zone ? `${text}%${zone}` : text;
    });

test('property: every spelling of an address keys to its /64, and only that', () => {
  fc.assert(
    fc.property(
      groups.chain((g) => fc.tuple(fc.constant(g), spelling(g))),
      ([g, text]) => {
        const mapped = g.slice(0, 5).every((v) => v === 0) && g[5] === 0xffff;
        fc.pre(!mapped);
        const expected = `${g
          .slice(0, 4)
          .map((v) => v.toString(16))
          .join(':')}::/64`;
        assert.equal(clientAddressKey(text), expected, text);
      },
    ),
  );
});

test('property: different /64 prefixes never share a key', () => {
  fc.assert(
    fc.property(groups, groups, (a, b) => {
      const text = (g: number[]) => g.map((v) => v.toString(16)).join(':');
      const samePrefix = a.slice(0, 4).every((v, i) => v === b[i]);
      const mapped = (g: number[]) => g.slice(0, 5).every((v) => v === 0) && g[5] === 0xffff;
      fc.pre(!mapped(a) && !mapped(b));
      assert.equal(clientAddressKey(text(a)) === clientAddressKey(text(b)), samePrefix);
    }),
  );
});

test('property: a mapped address and its IPv4 address share one key', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (o) => {
      const v4 = o.join('.');
      const hex = `${((o[0] as number) * 256 + (o[1] as number)).toString(16)}:${(
        (o[2] as number) * 256 +
        (o[3] as number)
      ).toString(16)}`;
      assert.equal(clientAddressKey(v4), v4);
      assert.equal(clientAddressKey(`::ffff:${v4}`), v4);
      assert.equal(clientAddressKey(`::ffff:${hex}`), v4);
    }),
  );
});
