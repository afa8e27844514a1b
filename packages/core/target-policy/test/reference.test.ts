/**
 * The policy checked against an independent model: addresses as BigInt, ranges as
 * (base, prefix) compared under a BigInt mask, precedence written out directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyAddress, compilePolicy } from '../src/index.ts';

type Row = readonly [base: bigint, prefix: number, reason: string];

const v4 = (a: number, b: number, c: number, d: number): bigint =>
  (BigInt(a) << 24n) | (BigInt(b) << 16n) | (BigInt(c) << 8n) | BigInt(d);

const referenceV4: readonly Row[] = [
  [v4(0, 0, 0, 0), 8, 'this network'],
  [v4(10, 0, 0, 0), 8, 'private'],
  [v4(100, 64, 0, 0), 10, 'shared address space (CGNAT)'],
  [v4(127, 0, 0, 0), 8, 'loopback'],
  [v4(169, 254, 0, 0), 16, 'link-local'],
  [v4(169, 254, 169, 254), 32, 'cloud metadata'],
  [v4(172, 16, 0, 0), 12, 'private'],
  [v4(192, 0, 0, 0), 24, 'IETF protocol assignments'],
  [v4(192, 0, 2, 0), 24, 'documentation'],
  [v4(192, 88, 99, 0), 24, '6to4 relay anycast'],
  [v4(192, 168, 0, 0), 16, 'private'],
  [v4(198, 18, 0, 0), 15, 'benchmarking'],
  [v4(198, 51, 100, 0), 24, 'documentation'],
  [v4(203, 0, 113, 0), 24, 'documentation'],
  [v4(224, 0, 0, 0), 4, 'multicast'],
  [v4(240, 0, 0, 0), 4, 'reserved'],
  [v4(255, 255, 255, 255), 32, 'limited broadcast'],
];

const mask = (prefix: number): bigint =>
  prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(32 - prefix);
const inRow = (addr: bigint, base: bigint, prefix: number): boolean =>
  (addr & mask(prefix)) === (base & mask(prefix));
const text = (addr: bigint): string =>
  [24n, 16n, 8n, 0n].map((s) => String((addr >> s) & 255n)).join('.');

function referenceReason(
  addr: bigint,
  allow: readonly Row[],
  deny: readonly Row[],
): string | undefined {
  if (deny.some(([b, p]) => inRow(addr, b, p))) return 'denied by operator';
  if (allow.some(([b, p]) => inRow(addr, b, p))) return undefined;
  let best: Row | undefined;
  for (const row of referenceV4)
    if (inRow(addr, row[0], row[1]) && (best === undefined || row[1] > best[1])) best = row;
  return best?.[2];
}

/** Addresses biased toward the edges of the special ranges, where off-by-one bugs live. */
const address = fc.oneof(
  fc.bigInt({ min: 0n, max: 0xffffffffn }),
  fc
    .tuple(fc.constantFrom(...referenceV4), fc.bigInt({ min: -2n, max: 2n }), fc.boolean())
    .map(([[base, prefix], delta, top]) => {
      const edge = top ? base | (~mask(prefix) & 0xffffffffn) : base;
      return (edge + delta + 0x100000000n) % 0x100000000n;
    }),
);

const operatorCidr = fc
  .tuple(fc.bigInt({ min: 0n, max: 0xffffffffn }), fc.integer({ min: 0, max: 32 }))
  .map(([addr, prefix]): Row => [addr & mask(prefix), prefix, '']);

const cidrText = ([base, prefix]: Row): string => `${text(base)}/${prefix}`;

test('fast-check: random IPv4 addresses are classified as the BigInt reference says', () => {
  const policy = compilePolicy();
  fc.assert(
    fc.property(address, (addr) => {
      const v = classifyAddress(policy, text(addr));
      assert.equal(v.allowed ? undefined : v.reason, referenceReason(addr, [], []), text(addr));
    }),
    { numRuns: 20000 },
  );
});

test('fast-check: with random operator allow and deny CIDRs too', () => {
  fc.assert(
    fc.property(
      fc.array(operatorCidr, { maxLength: 4 }),
      fc.array(operatorCidr, { maxLength: 3 }),
      fc.array(address, { minLength: 1, maxLength: 20 }),
      (allow, deny, addrs) => {
        const policy = compilePolicy({
          allowCidrs: allow.map(cidrText),
          denyCidrs: deny.map(cidrText),
        });
        const mappedPolicy = compilePolicy({
          allowCidrs: [...allow.map(cidrText), '::ffff:0:0/96'],
          denyCidrs: deny.map(cidrText),
        });
        // Aim some addresses inside the operator's own blocks.
        const probes = [...addrs, ...allow.map((r) => r[0]), ...deny.map((r) => r[0])];
        for (const addr of probes) {
          const want = referenceReason(addr, allow, deny);
          const got = classifyAddress(policy, text(addr));
          assert.equal(got.allowed ? undefined : got.reason, want, text(addr));
          // The IPv4-mapped form is refused whatever the IPv4 verdict (the operator entries
          // here are IPv4, which never name a mapped address), naming the IPv4's own reason.
          const mapped = classifyAddress(policy, `::ffff:${text(addr)}`);
          assert.equal(
            mapped.allowed ? undefined : mapped.reason,
            want === undefined ? 'IPv4-mapped' : `IPv4-mapped, ${want}`,
          );
          // With the whole mapped prefix allowlisted, it gets exactly the IPv4's verdict.
          const opened = classifyAddress(mappedPolicy, `::ffff:${text(addr)}`);
          assert.equal(
            opened.allowed ? undefined : opened.reason,
            want === undefined ? undefined : `IPv4-mapped, ${want}`,
          );
        }
      },
    ),
    { numRuns: 2000 },
  );
});
