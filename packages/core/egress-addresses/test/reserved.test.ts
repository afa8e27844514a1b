import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatAddress,
  isUsableAddress,
  parseAddress,
  parsePrefix,
  usableAddressAt,
  usableCount,
  type Prefix,
} from '../src/index.ts';

function prefix(text: string): Prefix {
  const r = parsePrefix(text);
  assert.ok(r.ok, text);
  return r.prefix;
}

const v6 = (text: string) => parseAddress(text)?.value as bigint;

test('IPv4: indices walk the usable addresses, skipping network and broadcast', () => {
  const p = prefix('192.0.2.0/29');
  const all = Array.from({ length: 6 }, (_, i) => formatAddress(4, usableAddressAt(p, BigInt(i))));
  assert.deepEqual(all, [
    '192.0.2.1',
    '192.0.2.2',
    '192.0.2.3',
    '192.0.2.4',
    '192.0.2.5',
    '192.0.2.6',
  ]);
  assert.throws(() => usableAddressAt(p, 6n), RangeError);
  assert.equal(isUsableAddress(p, parseAddress('192.0.2.0')?.value as bigint), false);
  assert.equal(isUsableAddress(p, parseAddress('192.0.2.7')?.value as bigint), false);
  assert.equal(isUsableAddress(p, parseAddress('192.0.2.8')?.value as bigint), false);
});

test('IPv6: the subnet-router anycast and the RFC 5453 reserved IIDs are never returned', () => {
  const p = prefix('2001:db8::/64');
  const at = (i: bigint) => formatAddress(6, usableAddressAt(p, i));
  assert.equal(at(0n), '2001:db8::1'); // IID 0 is the subnet-router anycast (RFC 4291 §2.6.1)
  // Just below and above the IANA Ethernet block 0200:5eff:fe00:0000-0200:5eff:feff:ffff.
  const beforeEthernet = 0x0200_5eff_fe00_0000n - 2n; // index of IID ...fdff:ffff (one skipped below)
  assert.equal(at(beforeEthernet), '2001:db8::200:5eff:fdff:ffff');
  assert.equal(at(beforeEthernet + 1n), '2001:db8::200:5eff:ff00:0');
  // The RFC 2526 reserved subnet anycast block fdff:ffff:ffff:ff80-ffff.
  const beforeAnycast = 0xfdff_ffff_ffff_ff7fn - 1n - (1n << 24n);
  assert.equal(at(beforeAnycast), '2001:db8::fdff:ffff:ffff:ff7f');
  assert.equal(at(beforeAnycast + 1n), '2001:db8:0:0:fe00::');
  const last = usableCount(p) - 1n;
  assert.equal(at(last), '2001:db8::ffff:ffff:ffff:ffff');
  for (const iid of [
    '::',
    '::200:5eff:fe00:5213',
    '::200:5eff:fe00:0',
    '::fdff:ffff:ffff:ff80',
    '::fdff:ffff:ffff:ffff',
  ]) {
    assert.equal(isUsableAddress(p, v6('2001:db8::') + v6(iid)), false, iid);
  }
});

test('a prefix shorter than /64 repeats the exclusions in every /64 subnet', () => {
  const p = prefix('2001:db8::/63');
  const perSubnet = usableCount(prefix('2001:db8::/64'));
  assert.equal(usableCount(p), 2n * perSubnet);
  assert.equal(formatAddress(6, usableAddressAt(p, perSubnet)), '2001:db8:0:1::1');
  assert.equal(
    formatAddress(6, usableAddressAt(p, perSubnet - 1n)),
    '2001:db8::ffff:ffff:ffff:ffff',
  );
});

test('property: the index-to-address map is strictly increasing and lands on usable addresses only', () => {
  const prefixes = ['192.0.2.0/24', '198.51.100.8/30', '2001:db8::/64', '2001:db8:10::/60'].map(
    prefix,
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...prefixes),
      fc.bigInt({ min: 0n, max: (1n << 68n) - 1n }),
      (p, raw) => {
        const n = usableCount(p);
        const i = raw % (n - 1n);
        const a = usableAddressAt(p, i);
        const b = usableAddressAt(p, i + 1n);
        assert.ok(a < b);
        assert.ok(isUsableAddress(p, a) && isUsableAddress(p, b));
      },
    ),
    { numRuns: 2000 },
  );
});
