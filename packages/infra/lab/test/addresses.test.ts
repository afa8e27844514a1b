import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addressPlan,
  cidr,
  ipv4InSubnet,
  ipv4ToNumber,
  loopbackPlan,
  numberToIpv4,
} from '../src/addresses.ts';
import {
  labId,
  labOfIfname,
  labOfNetns,
  netnsName,
  roleIfname,
  routerIfname,
} from '../src/names.ts';
import { ROLES } from '../src/roles.ts';

const DOC_V4 = ['192.0.2.0', '198.51.100.0', '203.0.113.0'];

test('every namespaced address is in a documentation range (RFC 5737, RFC 3849)', () => {
  const plan = addressPlan();
  for (const role of ROLES) {
    const { v4, v6 } = plan[role];
    assert.ok(
      DOC_V4.some((net) => ipv4InSubnet(v4.network, net, 24)),
      `${role} ${cidr(v4)} outside the IPv4 documentation ranges`,
    );
    for (const a of [v4.host, v4.router])
      assert.ok(ipv4InSubnet(a, v4.network, v4.prefixLength), `${role} ${a}`);
    assert.notEqual(v4.host, v4.router);
    assert.notEqual(v4.host, v4.network, 'the network address is not a host');
    for (const a of [v6.network, v6.host, v6.router]) assert.match(a, /^2001:db8:/, `${role} ${a}`);
    assert.equal(v6.prefixLength, 64);
    assert.notEqual(v6.host, v6.router);
  }
});

test('each role has its own subnet; no two overlap', () => {
  const plan = addressPlan();
  const v4 = ROLES.map((r) => plan[r].v4);
  for (let i = 0; i < v4.length; i++) {
    for (let j = i + 1; j < v4.length; j++) {
      const a = v4[i]!;
      const b = v4[j]!;
      const aStart = ipv4ToNumber(a.network);
      const bStart = ipv4ToNumber(b.network);
      const aEnd = aStart + 2 ** (32 - a.prefixLength);
      const bEnd = bStart + 2 ** (32 - b.prefixLength);
      assert.ok(aEnd <= bStart || bEnd <= aStart, `${cidr(a)} overlaps ${cidr(b)}`);
    }
  }
  assert.equal(new Set(ROLES.map((r) => plan[r].v6.network)).size, ROLES.length);
});

test('the plan is the one drawn in addresses.ts', () => {
  const plan = addressPlan();
  assert.deepEqual(plan.client.v4, {
    network: '192.0.2.0',
    prefixLength: 28,
    router: '192.0.2.1',
    host: '192.0.2.2',
  });
  assert.equal(plan.egress.v4.host, '198.51.100.18');
  assert.equal(plan.dns.v4.router, '203.0.113.17');
  assert.equal(plan.ingress.v6.host, '2001:db8:0:2::2');
  assert.equal(plan.dns.v6.router, '2001:db8:0:7::1');
  assert.ok(Object.isFrozen(plan) && Object.isFrozen(plan.client.v4));
});

test('loopback plan: seven distinct 127.x addresses away from 127.0.x.y, distinct across run ids', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 3, maxLength: 3 }), (bytes) => {
      const plan = loopbackPlan(bytes);
      const addresses = ROLES.map((r) => plan[r]);
      assert.equal(new Set(addresses).size, ROLES.length);
      for (const a of addresses) {
        const [o1, o2] = a.split('.').map(Number) as [number, number];
        assert.equal(o1, 127);
        assert.ok(o2 >= 100 && o2 < 200, a);
        assert.equal(numberToIpv4(ipv4ToNumber(a)), a);
      }
    }),
  );
  const a = loopbackPlan(Uint8Array.of(1, 2, 3));
  const b = loopbackPlan(Uint8Array.of(1, 3, 3));
  assert.notEqual(a.client, b.client);
});

test('IPv4 text is strict', () => {
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.x', '']) {
    assert.throws(() => ipv4ToNumber(bad), RangeError, bad);
  }
  assert.throws(() => numberToIpv4(2 ** 32), RangeError);
  assert.equal(numberToIpv4(ipv4ToNumber('203.0.113.255')), '203.0.113.255');
});

test('names carry the run id, fit IFNAMSIZ and lead back to their lab', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 3, maxLength: 3 }), (bytes) => {
      const id = labId(bytes);
      assert.match(id, /^sra-[0-9a-f]{6}$/);
      for (const role of ROLES) {
        const ns = netnsName(id, role);
        assert.ok(ns.startsWith(`${id}-`));
        assert.equal(labOfNetns(ns), id);
        for (const ifname of [roleIfname(id, role), routerIfname(id, role)]) {
          assert.ok(ifname.length <= 15, ifname);
          assert.equal(labOfIfname(ifname), id);
        }
      }
      assert.equal(labOfNetns(netnsName(id, 'router')), id);
    }),
  );
  assert.equal(new Set(ROLES.map((r) => routerIfname('sra-000000', r))).size, ROLES.length);
  for (const foreign of [
    'eth0',
    'veth1a2b3c',
    'sra-12345-client',
    'sra-1234567-client',
    'sra-ABCDEF-client',
    'docker0',
  ]) {
    assert.equal(labOfNetns(foreign), undefined, foreign);
    assert.equal(labOfIfname(foreign), undefined, foreign);
  }
  assert.throws(() => labId(Uint8Array.of(1, 2)), RangeError);
});
