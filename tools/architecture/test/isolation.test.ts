/**
 * The trust model as a property of the dependency graph: walk each operator app's full
 * closure of workspace imports and refuse any package its operator must not hold. The
 * negative controls add one forbidden import deep in the graph and must be caught, with the
 * path that brings it in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  ISOLATION_RULES,
  closure,
  forbiddenIn,
  importSpecifiers,
  runtimeImports,
  workspacePackages,
} from '../src/index.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const packages = workspacePackages(root, [
  'apps/*',
  'packages/core/*',
  'packages/infra/*',
  'packages/hops/*',
  'tools/*',
]);
const graph = runtimeImports(packages);

for (const rule of ISOLATION_RULES) {
  test(`${rule.app}: ${rule.because}`, () => {
    assert.ok(graph.has(rule.app), `${rule.app} is a workspace package`);
    // The walk is real: every app reaches several packages.
    assert.ok(closure(graph, rule.app).size >= 4, `${rule.app} has a closure`);
    assert.deepEqual(
      forbiddenIn(graph, rule.app, rule.forbidden).map((path) => path.join(' → ')),
      [],
    );
  });
}

test('no operator app reaches a tool (dev certificates, NATS kit, local deployment, test kit)', () => {
  const tools = packages.filter((p) => p.dir.includes('/tools/')).map((p) => p.name);
  assert.ok(tools.includes('@splitrelay/devcerts'));
  for (const app of [
    '@splitrelay/ingress-app',
    '@splitrelay/egress-app',
    '@splitrelay/issuer-app',
    '@splitrelay/client-app',
  ]) {
    assert.deepEqual(forbiddenIn(graph, app, tools), [], app);
  }
});

test('negative control: a forbidden import added deep in the graph is caught, with its path', () => {
  const leaky = new Map([...graph].map(([k, v]) => [k, new Set(v)]));
  // The trunk (which the ingress uses) suddenly imports the inner-session parser.
  leaky.get('@splitrelay/trunk')?.add('@splitrelay/inner-session');
  const ingress = ISOLATION_RULES.find((r) => r.app === '@splitrelay/ingress-app')!;
  const found = forbiddenIn(leaky, ingress.app, ingress.forbidden);
  assert.ok(found.length > 0, 'the leak is found');
  const path = found.find((p) => p.at(-1) === '@splitrelay/inner-session');
  assert.ok(path, 'inner-session is named');
  assert.deepEqual(path.slice(-2), ['@splitrelay/trunk', '@splitrelay/inner-session']);
  assert.equal(path[0], '@splitrelay/ingress-app');

  const egress = ISOLATION_RULES.find((r) => r.app === '@splitrelay/egress-app')!;
  leaky.get('@splitrelay/target-dialer')?.add('@splitrelay/outer-hop');
  assert.ok(
    forbiddenIn(leaky, egress.app, egress.forbidden).some(
      (p) => p.at(-1) === '@splitrelay/outer-hop',
    ),
  );
});

test('negative control: an OHTTP decoder reaching the ingress through its relay is caught', () => {
  const ingress = ISOLATION_RULES.find((r) => r.app === '@splitrelay/ingress-app')!;
  assert.ok(
    closure(graph, ingress.app).has('@splitrelay/ohttp-relay'),
    'the ingress does hold the relay',
  );
  for (const decoder of ['@splitrelay/ohttp', '@splitrelay/hpke', '@splitrelay/bhttp']) {
    const leaky = new Map([...graph].map(([k, v]) => [k, new Set(v)]));
    leaky.get('@splitrelay/ohttp-relay')?.add(decoder);
    const found = forbiddenIn(leaky, ingress.app, ingress.forbidden);
    assert.ok(
      found.some((p) => p.at(-2) === '@splitrelay/ohttp-relay' && p.at(-1) === decoder),
      decoder,
    );
  }
});

test('imports are read in every form a source file can spell them', () => {
  const source = [
    "import a from '@splitrelay/a';",
    "import { b } from '@splitrelay/b/sub';",
    "import type { C } from '@splitrelay/c';",
    "export { d } from '@splitrelay/d';",
    "export * from '@splitrelay/e';",
    "const f = await import('@splitrelay/f');",
    "import '@splitrelay/g';",
    "import {\n  h,\n  i,\n} from '@splitrelay/h';",
  ].join('\n');
  assert.deepEqual(importSpecifiers(source), [
    '@splitrelay/a',
    '@splitrelay/b/sub',
    '@splitrelay/c',
    '@splitrelay/d',
    '@splitrelay/e',
    '@splitrelay/f',
    '@splitrelay/g',
    '@splitrelay/h',
  ]);
});
