import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { iptablesRules, nftRuleset } from '../src/firewall.ts';
import {
  expectedPairs,
  matrixProblems,
  mayOpen,
  routedPeers,
  trustModelDepartures,
  TRUST_MODEL,
  type ReachabilityMatrix,
} from '../src/reachability.ts';
import { ROLES, type Role } from '../src/roles.ts';

test('the trust model gives each role exactly the routes the relay needs', () => {
  const routes = Object.fromEntries(ROLES.map((r) => [r, routedPeers(TRUST_MODEL, r)]));
  assert.deepEqual(routes, {
    client: ['ingress', 'issuer', 'dns'],
    ingress: ['client', 'egress', 'nats'],
    egress: ['ingress', 'nats', 'target', 'dns'],
    issuer: ['client', 'nats'],
    nats: ['ingress', 'egress', 'issuer'],
    target: ['egress'],
    dns: ['client', 'egress'],
  });
  assert.ok(!routes.ingress!.includes('target') && !routes.ingress!.includes('dns'));
  assert.ok(!routes.egress!.includes('client'));
  assert.deepEqual(trustModelDepartures(TRUST_MODEL), []);
  assert.deepEqual(matrixProblems(TRUST_MODEL), []);
});

test('42 ordered pairs, 9 of them open', () => {
  const pairs = expectedPairs(TRUST_MODEL);
  assert.equal(pairs.length, 42);
  assert.deepEqual(
    pairs.filter((p) => p.allowed).map((p) => `${p.from}->${p.to}`),
    [
      'client->ingress',
      'client->issuer',
      'client->dns',
      'ingress->egress',
      'ingress->nats',
      'egress->nats',
      'egress->target',
      'egress->dns',
      'issuer->nats',
    ],
  );
});

test('a weaker matrix is named for what it gives away', () => {
  const weak: ReachabilityMatrix = {
    ...TRUST_MODEL,
    ingress: ['egress', 'nats', 'target'],
    client: ['ingress', 'issuer', 'dns', 'egress'],
  };
  const departures = trustModelDepartures(weak);
  assert.ok(
    departures.some((d) => /ingress has a route to target/.test(d)),
    departures.join('\n'),
  );
  assert.ok(
    departures.some((d) => /egress has a route to client/.test(d)),
    departures.join('\n'),
  );
  assert.ok(
    departures.some((d) => /client may open connections to egress/.test(d)),
    departures.join('\n'),
  );
});

test('unusable matrices are refused with every problem listed', () => {
  assert.deepEqual(matrixProblems(null), ['the matrix must be an object']);
  const problems = matrixProblems({ ...TRUST_MODEL, nats: ['nats', 'ftp'], router: [], dns: 'x' });
  assert.deepEqual(problems, [
    'unknown role "router"',
    'nats: a role does not open connections to itself',
    'nats: unknown peer "ftp"',
    'dns: a list of roles is required',
  ]);
});

const arbMatrix = fc
  .array(fc.tuple(fc.constantFrom(...ROLES), fc.constantFrom(...ROLES)), { maxLength: 30 })
  .map((edges) => {
    const m = Object.fromEntries(ROLES.map((r) => [r, [] as Role[]])) as Record<Role, Role[]>;
    for (const [a, b] of edges) if (a !== b && !m[a].includes(b)) m[a].push(b);
    return m as ReachabilityMatrix;
  });

test('routes are symmetric and cover every allowed pair, for any matrix', () => {
  fc.assert(
    fc.property(arbMatrix, (m) => {
      for (const a of ROLES) {
        for (const b of ROLES) {
          if (a === b) continue;
          assert.equal(routedPeers(m, a).includes(b), routedPeers(m, b).includes(a));
          if (mayOpen(m, a, b)) assert.ok(routedPeers(m, a).includes(b));
        }
      }
    }),
  );
});

const LINKS = Object.fromEntries(ROLES.map((r) => [r, `sra000000-r${r.slice(0, 2)}`])) as Record<
  Role,
  string
>;

test('nftables ruleset: drop by default, established first, one accept per allowed pair, counted drop last', () => {
  const text = nftRuleset(TRUST_MODEL, LINKS);
  const lines = text
    .trim()
    .split('\n')
    .map((l) => l.trim());
  assert.equal(lines[0], 'table inet splitrelay_lab {');
  assert.equal(lines[2], 'type filter hook forward priority filter; policy drop;');
  assert.equal(lines[3], 'ct state established,related accept');
  const accepts = lines.filter((l) => l.includes('ct state new counter accept'));
  assert.equal(accepts.length, 9);
  assert.ok(
    accepts.includes(
      `iifname "${LINKS.client}" oifname "${LINKS.ingress}" ct state new counter accept comment "client->ingress"`,
    ),
  );
  assert.ok(!text.includes(`iifname "${LINKS.ingress}" oifname "${LINKS.target}"`));
  assert.ok(!text.includes(`iifname "${LINKS.egress}" oifname "${LINKS.client}"`));
  assert.equal(lines.at(-3), 'counter drop comment "forbidden"');
});

test('iptables rules: the same policy as argument lists', () => {
  const rules = iptablesRules(TRUST_MODEL, LINKS);
  assert.deepEqual(rules[0], ['-P', 'FORWARD', 'DROP']);
  assert.deepEqual(rules[1]!.slice(0, 6), [
    '-A',
    'FORWARD',
    '-m',
    'conntrack',
    '--ctstate',
    'ESTABLISHED,RELATED',
  ]);
  const accepts = rules.slice(2);
  assert.equal(accepts.length, 9);
  for (const r of accepts) {
    assert.equal(r[r.indexOf('--ctstate') + 1], 'NEW');
    assert.equal(r.at(-1), 'ACCEPT');
  }
  assert.ok(accepts.some((r) => r[3] === LINKS.egress && r[5] === LINKS.target));
});
