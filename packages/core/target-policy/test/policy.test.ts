import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RelayError } from '@splitrelay/errors';
import {
  checkAddress,
  checkPort,
  classifyAddress,
  compilePolicy,
  type TargetPolicyConfig,
} from '../src/index.ts';

function configError(config: unknown): RelayError {
  try {
    compilePolicy(config as TargetPolicyConfig);
  } catch (err) {
    assert.ok(err instanceof RelayError);
    assert.equal(err.code, 'config-invalid');
    assert.equal(err.status, 500);
    assert.equal(err.proxyError, 'proxy_configuration_error');
    return err;
  }
  assert.fail('expected config-invalid');
}

test('compilePolicy reports every problem at once', () => {
  const err = configError({
    allowCidrs: ['127.0.0.0/8', '10.0.0.1/8', 'nope', '::1/129', 7],
    denyCidrs: 'x',
    allowPorts: [443, [9000, 8000], 0, 'http'],
    denyPorts: [],
    denyCidr: ['1.2.3.4/32'],
  });
  for (const fragment of [
    'unknown key "denyCidr"',
    'allowCidrs[1]: "10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)',
    'allowCidrs[2]: "nope" is not an IPv4 or IPv6 address/prefix',
    'allowCidrs[3]: "::1/129" has a prefix length outside 0-128',
    'allowCidrs[4]: expected a string, got 7',
    'denyCidrs: expected an array',
    'allowPorts[1]: range [9000, 8000] is backwards',
    'allowPorts[2]: expected a port 1-65535',
    'allowPorts[3]: expected a port 1-65535',
    'denyPorts: is empty',
  ]) {
    assert.ok(err.details.includes(fragment), `missing "${fragment}" in ${err.details}`);
  }
  configError(null);
  configError([]);
  configError({ allowCidrs: ['fe80::/10%eth0'] });
  configError({ allowCidrs: ['10.0.0.0/08'] });
});

test('a compiled policy is frozen and bare addresses mean one host', () => {
  const policy = compilePolicy({
    allowCidrs: ['127.0.0.1', '::1'],
    allowPorts: [[1000, 2000], 80, [1500, 3000]],
  });
  assert.ok(Object.isFrozen(policy));
  assert.ok(Object.isFrozen(policy.allowCidrs));
  assert.deepEqual(
    policy.allowCidrs.map((c) => c.prefix),
    [32, 128],
  );
  assert.deepEqual(policy.allowPorts, [
    [80, 80],
    [1000, 3000],
  ]);
  assert.equal(checkAddress(policy, '127.0.0.1').address, '127.0.0.1');
  assert.throws(() => checkAddress(policy, '127.0.0.2'), /prohibited range \(loopback\)/);
});

test('checkAddress refuses a built-in range with target-prohibited and the reason', () => {
  const policy = compilePolicy();
  assert.throws(
    () => checkAddress(policy, '127.0.0.1'),
    (err: unknown) =>
      err instanceof RelayError &&
      err.code === 'target-prohibited' &&
      err.status === 403 &&
      err.proxyError === 'destination_ip_prohibited' &&
      err.details === 'destination 127.0.0.1 is in a prohibited range (loopback)',
  );
  assert.deepEqual(checkAddress(policy, '2606:4700:4700:0:0:0:0:1111'), {
    address: '2606:4700:4700::1111',
    family: 6,
  });
});

test('allowCidrs override built-in ranges, and only inside themselves', () => {
  const policy = compilePolicy({ allowCidrs: ['127.0.0.0/8', '::1/128', 'fd00::/8'] });
  assert.equal(checkAddress(policy, '127.0.0.1').family, 4);
  assert.equal(checkAddress(policy, '127.255.0.9').address, '127.255.0.9');
  assert.equal(checkAddress(policy, '::1').address, '::1');
  assert.equal(checkAddress(policy, 'fd00:ec2::254').address, 'fd00:ec2::254');
  assert.throws(() => checkAddress(policy, '10.0.0.1'), /private/);
  assert.throws(() => checkAddress(policy, 'fc00::1'), /unique local/);
});

test('denyCidrs beat allowCidrs and public addresses alike', () => {
  const policy = compilePolicy({
    allowCidrs: ['127.0.0.0/8'],
    denyCidrs: ['127.0.0.53/32', '8.8.8.0/24', '2606:4700::/32'],
  });
  assert.equal(checkAddress(policy, '127.0.0.1').address, '127.0.0.1');
  assert.throws(() => checkAddress(policy, '127.0.0.53'), /\(denied by operator\)/);
  assert.throws(() => checkAddress(policy, '8.8.8.8'), /\(denied by operator\)/);
  assert.throws(() => checkAddress(policy, '2606:4700:4700::1111'), /\(denied by operator\)/);
  // The IPv4 inside other forms is denied too.
  assert.throws(
    () => checkAddress(policy, '::ffff:8.8.8.8'),
    /\(IPv4-mapped, denied by operator\)/,
  );
  assert.throws(() => checkAddress(policy, '::ffff:127.0.0.53'), /denied by operator/);
  const withNat64 = compilePolicy({ allowCidrs: ['64:ff9b::/96'], denyCidrs: ['8.8.8.0/24'] });
  assert.throws(() => checkAddress(withNat64, '64:ff9b::8.8.8.8'), /\(NAT64, denied by operator\)/);
  assert.equal(checkAddress(withNat64, '64:ff9b::1.1.1.1').address, '64:ff9b::101:101');
});

test('IPv4-mapped addresses are refused unless their IPv6 form is allowlisted', () => {
  const none = compilePolicy();
  assert.throws(() => checkAddress(none, '::ffff:8.8.8.8'), /\(IPv4-mapped\)$/);
  assert.throws(() => checkAddress(none, '::ffff:127.0.0.1'), /\(IPv4-mapped, loopback\)/);
  assert.throws(() => checkAddress(none, '::ffff:7f00:1'), /IPv4-mapped, loopback/);
  assert.throws(() => checkAddress(none, '0:0:0:0:0:FFFF:7F00:0001'), /IPv4-mapped, loopback/);
  // Allowing the IPv4 alone does not open its mapped form.
  const v4Allowed = compilePolicy({ allowCidrs: ['127.0.0.0/8'] });
  assert.equal(checkAddress(v4Allowed, '127.0.0.1').address, '127.0.0.1');
  assert.throws(() => checkAddress(v4Allowed, '::ffff:127.0.0.1'), /\(IPv4-mapped\)$/);
  // Allowing the mapped prefix opens only public IPv4s behind it...
  const mappedAllowed = compilePolicy({ allowCidrs: ['::ffff:0:0/96'] });
  assert.equal(checkAddress(mappedAllowed, '::ffff:8.8.8.8').address, '::ffff:8.8.8.8');
  assert.throws(() => checkAddress(mappedAllowed, '::ffff:127.0.0.1'), /IPv4-mapped, loopback/);
  assert.throws(
    () => checkAddress(mappedAllowed, '::ffff:169.254.169.254'),
    /IPv4-mapped, cloud metadata/,
  );
  // ...and a part of it, only that part.
  const v6Only = compilePolicy({ allowCidrs: ['::ffff:127.0.0.0/104'] });
  assert.throws(() => checkAddress(v6Only, '::ffff:127.0.0.1'), /IPv4-mapped, loopback/);
  assert.throws(() => checkAddress(v6Only, '::ffff:8.8.8.8'), /\(IPv4-mapped\)$/);
  assert.throws(() => checkAddress(v6Only, '127.0.0.1'), /loopback/);
  // Both named: the operator meant it.
  const both = compilePolicy({ allowCidrs: ['::ffff:127.0.0.0/104', '127.0.0.0/8'] });
  assert.equal(checkAddress(both, '::ffff:127.0.0.1').address, '::ffff:127.0.0.1');
  assert.equal(checkAddress(both, '127.0.0.1').address, '127.0.0.1');
  assert.throws(() => checkAddress(both, '::ffff:10.0.0.1'), /\(IPv4-mapped, private\)/);
  // An operator deny of the IPv4 still wins over an allowlisted mapped prefix.
  const carved = compilePolicy({
    allowCidrs: ['::ffff:127.0.0.0/104', '127.0.0.0/8'],
    denyCidrs: ['127.0.0.53/32'],
  });
  assert.throws(
    () => checkAddress(carved, '::ffff:127.0.0.53'),
    /\(IPv4-mapped, denied by operator\)/,
  );
  // A bare mapped address is a /128 allow entry.
  const single = compilePolicy({ allowCidrs: ['::ffff:1.1.1.1'] });
  assert.equal(checkAddress(single, '::ffff:1.1.1.1').address, '::ffff:1.1.1.1');
  assert.throws(() => checkAddress(single, '::ffff:1.1.1.2'), /\(IPv4-mapped\)$/);
});

test('NAT64, 6to4 and translated forms need their IPv6 prefix allowlisted, and a permitted IPv4', () => {
  // Allowing the IPv4 alone does not open the translator path to it.
  const v4Only = compilePolicy({ allowCidrs: ['127.0.0.0/8'] });
  assert.throws(() => checkAddress(v4Only, '64:ff9b::127.0.0.1'), /\(NAT64\)/);
  assert.throws(() => checkAddress(v4Only, '2002:7f00:1::'), /\(6to4\)/);
  const dns64 = compilePolicy({ allowCidrs: ['64:ff9b::/96', '2002::/16', '::ffff:0:0:0/96'] });
  assert.equal(checkAddress(dns64, '64:ff9b::8.8.8.8').address, '64:ff9b::808:808');
  assert.equal(checkAddress(dns64, '2002:808:808::1').address, '2002:808:808::1');
  assert.equal(checkAddress(dns64, '::ffff:0:8.8.8.8').address, '::ffff:0:808:808');
  assert.throws(() => checkAddress(dns64, '64:ff9b::127.0.0.1'), /\(NAT64, loopback\)/);
  assert.throws(() => checkAddress(dns64, '64:ff9b::169.254.169.254'), /\(NAT64, cloud metadata\)/);
  assert.throws(() => checkAddress(dns64, '2002:0a00:0001::'), /\(6to4, private\)/);
  // Both named: the operator meant it.
  const both = compilePolicy({ allowCidrs: ['64:ff9b::/96', '127.0.0.0/8'] });
  assert.equal(checkAddress(both, '64:ff9b::127.0.0.1').address, '64:ff9b::7f00:1');
});

test('ports: every valid port by default; allow lists, ranges and deny lists', () => {
  const open = compilePolicy();
  for (const p of [1, 22, 443, 65535]) checkPort(open, p);
  const refuses = (policy: ReturnType<typeof compilePolicy>, port: number, code: string): void => {
    assert.throws(
      () => checkPort(policy, port),
      (err: unknown) => err instanceof RelayError && err.code === code,
      `port ${port}`,
    );
  };
  refuses(open, 0, 'port-prohibited');
  for (const p of [-1, 65536, 1.5, Number.NaN]) refuses(open, p, 'malformed-request');
  const web = compilePolicy({
    allowPorts: [80, 443, [8000, 8999]],
    denyPorts: [8081, [8500, 8600]],
  });
  for (const p of [80, 443, 8000, 8080, 8499, 8601, 8999]) checkPort(web, p);
  for (const p of [22, 25, 81, 442, 444, 7999, 8081, 8500, 8555, 8600, 9000])
    refuses(web, p, 'port-prohibited');
  const noSmtp = compilePolicy({ denyPorts: [25, [465, 465], 587] });
  refuses(noSmtp, 25, 'port-prohibited');
  refuses(noSmtp, 587, 'port-prohibited');
  checkPort(noSmtp, 443);
  assert.throws(
    () => checkPort(web, 22),
    (err: unknown) => err instanceof RelayError && err.details === 'port 22 is not allowed',
  );
});

test('fast-check: ports match a reference set built port by port', () => {
  const spec = fc.oneof(
    fc.integer({ min: 1, max: 300 }),
    fc
      .tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 40 }))
      .map(([lo, n]): [number, number] => [lo, lo + n]),
  );
  fc.assert(
    fc.property(
      fc.option(fc.array(spec, { minLength: 1, maxLength: 8 }), { nil: undefined }),
      fc.option(fc.array(spec, { minLength: 1, maxLength: 4 }), { nil: undefined }),
      (allowPorts, denyPorts) => {
        const policy = compilePolicy({ allowPorts, denyPorts });
        const inSpec = (specs: typeof allowPorts, p: number): boolean =>
          (specs ?? []).some((s) => (typeof s === 'number' ? s === p : s[0] <= p && p <= s[1]));
        for (let p = 1; p <= 400; p++) {
          const want = (allowPorts === undefined || inSpec(allowPorts, p)) && !inSpec(denyPorts, p);
          let got = true;
          try {
            checkPort(policy, p);
          } catch {
            got = false;
          }
          assert.equal(got, want, `port ${p}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('classifyAddress never throws, whatever the text', () => {
  const policy = compilePolicy({ allowCidrs: ['10.0.0.0/8'] });
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (text) => {
      const v = classifyAddress(policy, text);
      assert.equal(typeof v.allowed, 'boolean');
    }),
  );
});
