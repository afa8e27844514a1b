/**
 * Do draws spread uniformly over the pool, and is each session's draw independent of the
 * last? Chi-square tests, each shown able to fail by a negative control that a real bug
 * would look like: modulo bias, a sticky draw, and a stable mapping (hash of a client id).
 *
 * Seeded runs are deterministic (they pass or fail the same way every time; alpha 0.001 is
 * just the bar). Runs on crypto.randomBytes use alpha = 1e-6 each; with three of them a
 * sound implementation fails a run with probability below 3e-6 (one in 300,000 runs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  drawSource,
  formatAddress,
  openSessionSource,
  parseAddress,
  parseAddressPools,
  uniformBelow,
  usableAddressAt,
  type AddressPools,
  type FamilyPool,
  type Rng,
} from '../src/index.ts';
import { seededRng } from './fixtures.ts';
import { chiSquare, serialChiSquare } from './stats.ts';

const SEEDED_ALPHA = 0.001;
const CRYPTO_ALPHA = 1e-6;
const cryptoRng: Rng = (n) => new Uint8Array(randomBytes(n));

// Four prefixes of different sizes: 30 + 14 + 2 + 1 = 47 usable addresses. Uniform over the
// pool means each prefix is drawn in proportion to its size, not one prefix in four.
function statsPools(): AddressPools {
  const r = parseAddressPools({
    defaultRegion: 'a',
    entropyFloorBits: 0,
    regions: [
      {
        id: 'a',
        country: 'NL',
        ipv4: ['198.51.100.0/27', '203.0.113.64/28', '192.0.2.8/31', '192.0.2.20/32'],
        ipv6: ['2001:db8::/63', '2001:db8:10::/64'],
      },
    ],
  });
  assert.ok(r.ok);
  return r.pools;
}

const pools = statsPools();
const v4 = pools.regions[0]?.ipv4 as FamilyPool;
const v6 = pools.regions[0]?.ipv6 as FamilyPool;

/** Every usable IPv4 address of the pool, numbered. */
const v4Labels = new Map<string, number>();
for (const p of v4.prefixes) {
  for (let i = 0n; i < p.usable; i++)
    v4Labels.set(formatAddress(4, usableAddressAt(p.prefix, i)), v4Labels.size);
}
const K = v4Labels.size;
const uniform = new Array<number>(K).fill(1 / K);

function label(address: string): number {
  const l = v4Labels.get(address);
  assert.ok(l !== undefined, `drew ${address}, which is not a usable pool address`);
  return l;
}

/** The egress's real path: one session source per inner session, its IPv4 address. */
function sessionLabels(rng: Rng, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(label(openSessionSource({ pools, rng }).sourceFor(4)?.address as string));
  }
  return out;
}

function counts(labels: readonly number[], k = K): number[] {
  const c = new Array<number>(k).fill(0);
  for (const l of labels) c[l]! += 1;
  return c;
}

/** Serial test on labels folded to 6 groups, with the groups' exact probabilities. */
function serial(labels: readonly number[]) {
  const groups = 6;
  const probabilities = counts(
    [...Array(K).keys()].map((l) => l % groups),
    groups,
  ).map((c) => c / K);
  return serialChiSquare(
    labels.map((l) => l % groups),
    probabilities,
  );
}

const N = 47_000; // 1000 expected per address

test('seeded: session draws are uniform over the pool, across prefixes of different sizes', (t) => {
  const labels = sessionLabels(seededRng('uniform'), N);
  const r = chiSquare(counts(labels), uniform);
  t.diagnostic(`chi2=${r.statistic.toFixed(1)} df=${r.df} p=${r.p.toFixed(3)}`);
  assert.ok(r.p > SEEDED_ALPHA, `chi2=${r.statistic.toFixed(1)} df=${r.df} p=${r.p}`);
  // Every address was drawn, including the /31's and the /32's.
  assert.ok(counts(labels).every((c) => c > 0));
});

test('seeded: consecutive session draws are independent (serial test)', (t) => {
  const r = serial(sessionLabels(seededRng('serial'), N));
  t.diagnostic(`chi2=${r.statistic.toFixed(1)} df=${r.df} p=${r.p.toFixed(3)}`);
  assert.ok(r.p > SEEDED_ALPHA, `chi2=${r.statistic.toFixed(1)} df=${r.df} p=${r.p}`);
});

test('crypto randomness: uniform and independent at alpha 1e-6 each', (t) => {
  const started = performance.now();
  const labels = sessionLabels(cryptoRng, N);
  const ms = performance.now() - started;
  t.diagnostic(
    `${N} sessions opened in ${ms.toFixed(0)} ms (${((N / ms) * 1000).toFixed(0)}/s, both families drawn)`,
  );
  const u = chiSquare(counts(labels), uniform);
  const s = serial(labels);
  t.diagnostic(`uniformity p=${u.p.toFixed(3)}, serial p=${s.p.toFixed(3)}`);
  assert.ok(u.p > CRYPTO_ALPHA, `uniformity chi2=${u.statistic.toFixed(1)} p=${u.p}`);
  assert.ok(s.p > CRYPTO_ALPHA, `serial chi2=${s.statistic.toFixed(1)} p=${s.p}`);
});

test('IPv6 draws are uniform over subnets and interface identifiers', () => {
  // Cells: which of the three /64s, times the IID's top nibble: 48 equally likely cells (the
  // reserved IIDs are 2^-40 of the space, far below what this sample can see).
  const base = [0x2001_0db8_0000_0000n, 0x2001_0db8_0000_0001n, 0x2001_0db8_0010_0000n];
  for (const [rng, alpha] of [
    [seededRng('v6'), SEEDED_ALPHA],
    [cryptoRng, CRYPTO_ALPHA],
  ] as const) {
    const c = new Array<number>(48).fill(0);
    for (let i = 0; i < 24_000; i++) {
      const a = parseAddress(drawSource(v6, rng).address)?.value as bigint;
      const subnet = base.indexOf(a >> 64n);
      assert.ok(subnet >= 0);
      c[subnet * 16 + Number((a >> 60n) & 0xfn)]! += 1;
    }
    const r = chiSquare(c, new Array<number>(48).fill(1 / 48));
    assert.ok(r.p > alpha, `chi2=${r.statistic.toFixed(1)} p=${r.p}`);
  }
});

test('negative control: a modulo-biased draw fails the uniformity test', (t) => {
  const rng = seededRng('biased');
  const addresses = [...v4Labels.keys()];
  // 256 % 47 = 21: the first 21 addresses come up 6/256 of the time, the rest 5/256.
  const labels = Array.from({ length: N }, () =>
    label(addresses[(rng(1)[0] as number) % K] as string),
  );
  const r = chiSquare(counts(labels), uniform);
  t.diagnostic(`chi2=${r.statistic.toFixed(1)} df=${r.df} p=${r.p.toExponential(1)}`);
  assert.ok(r.p < CRYPTO_ALPHA, `the biased draw passed: p=${r.p}`);
});

test('negative control: a sticky draw (keeps the last address half the time) fails the serial test', (t) => {
  const rng = seededRng('sticky');
  let last: number | undefined;
  const labels = Array.from({ length: N }, () => {
    const fresh = sessionLabels(rng, 1)[0] as number;
    last = last !== undefined && ((rng(1)[0] as number) & 1) === 0 ? last : fresh;
    return last;
  });
  // Every address is still equally likely on average; only the pairs give it away.
  const r = serial(labels);
  t.diagnostic(`chi2=${r.statistic.toFixed(1)} df=${r.df} p=${r.p.toExponential(1)}`);
  assert.ok(r.p < CRYPTO_ALPHA, `the sticky draw passed: p=${r.p}`);
});

test('negative control: a stable mapping (hash of a client id) fails the serial test', (t) => {
  // 2,350 clients open 20 sessions each, one after another. Hashing the client id spreads
  // clients evenly over the pool, but a client's sessions all share one address.
  const addresses = [...v4Labels.keys()];
  const labels: number[] = [];
  for (let client = 0; client < N / 20; client++) {
    const digest = createHash('sha256').update(`client-${client}`).digest();
    const pick = Number(digest.readBigUInt64BE(0) % BigInt(K));
    for (let s = 0; s < 20; s++) labels.push(label(addresses[pick] as string));
  }
  const r = serial(labels);
  t.diagnostic(`chi2=${r.statistic.toFixed(1)} df=${r.df} p=${r.p.toExponential(1)}`);
  assert.ok(r.p < CRYPTO_ALPHA, `the stable mapping passed: p=${r.p}`);
});

test('uniformBelow refuses a broken rng instead of looping or biasing', () => {
  assert.throws(() => uniformBelow(10n, () => new Uint8Array(2)), TypeError);
  // Always 0xff: every candidate (15 after masking) is out of range for n = 10.
  assert.throws(() => uniformBelow(10n, (n) => new Uint8Array(n).fill(0xff)), /not random/);
  assert.equal(
    uniformBelow(1n, () => assert.fail('n = 1 needs no randomness')),
    0n,
  );
  assert.throws(() => uniformBelow(0n, cryptoRng), RangeError);
});

test('a draw reports its entropy: log2 of the usable addresses of the family', () => {
  const s = drawSource(v4, seededRng('e'));
  assert.equal(s.entropyBits, Math.log2(47));
  assert.equal(s.family, 4);
});
