import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cidrContains, formatCidr, parseCidr, parseIPv4, parseIPv6 } from '../src/index.ts';

test('prefixes of both families, a bare address as one host unless a length is required', () => {
  const r = parseCidr('10.0.0.0/8');
  assert.ok(r.ok);
  assert.equal(formatCidr(r.cidr), '10.0.0.0/8');
  const host = parseCidr('2001:db8::1');
  assert.ok(host.ok);
  assert.equal(host.cidr.prefix, 128);
  assert.deepEqual(parseCidr('192.0.2.1', { requireLength: true }), {
    ok: false,
    problem: 'must be address/length (CIDR)',
  });
});

test('every refusal says why, and host bits name the block that was probably meant', () => {
  const problem = (text: string): string => {
    const r = parseCidr(text);
    assert.equal(r.ok, false, text);
    return (r as { problem: string }).problem;
  };
  assert.equal(problem('10.0.0.1/8'), 'has host bits set (did you mean 10.0.0.0/8?)');
  assert.equal(problem('::1/129'), 'has a prefix length outside 0-128');
  assert.equal(problem('10.0.0.0/08'), 'has a prefix length outside 0-32');
  for (const bad of ['nope', '010.0.0.0/8', '127.1/8', 'fe80::1%eth0/64', '/8', '10.0.0.0/'])
    assert.ok(problem(bad).length > 0, bad);
});

test('contains: exactly the addresses that share the prefix, never the other family', () => {
  const block = (parseCidr('192.0.2.0/25') as { cidr: Parameters<typeof formatCidr>[0] }).cidr;
  const v4 = (t: string) => ({ bytes: parseIPv4(t) as Uint8Array });
  assert.ok(cidrContains(block, v4('192.0.2.127')));
  assert.ok(!cidrContains(block, v4('192.0.2.128')));
  assert.ok(!cidrContains(block, { bytes: parseIPv6('::ffff:192.0.2.1') as Uint8Array }));
});

test('property: a formatted block parses back to itself and contains its own network', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 128 }),
      fc.boolean(),
      (raw, len, v4) => {
        const bytes = v4 ? raw.subarray(0, 4) : raw;
        const prefix = v4 ? len % 33 : len;
        const masked = parseCidr(
          `${v4 ? Array.from(bytes).join('.') : Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(':')}/${prefix}`,
        );
        if (masked.ok) {
          const again = parseCidr(formatCidr(masked.cidr));
          assert.ok(again.ok);
          assert.deepEqual(again.cidr, masked.cidr);
          assert.ok(cidrContains(masked.cidr, masked.cidr));
        } else {
          assert.match(masked.problem, /host bits set/);
        }
      },
    ),
  );
});
