import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  FAMILIES,
  directorySubject,
  egressHealthSubject,
  familyWildcard,
  ingressCertSubject,
  ingressHealthSubject,
  isRelayId,
  manifestSubject,
  parseSubject,
  subjectFor,
} from '../src/index.ts';

// A DNS label that is not a number (a numeric one could never be CONNECTed as an egress).
const relayId = fc
  .stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/)
  .filter((s) => !/^(?:[0-9]+|0x[0-9a-f]*)$/.test(s));

test('the six families have the subjects of the contract', () => {
  assert.equal(manifestSubject('egress', 'edge-fra-1'), 'splitrelay.manifest.egress.edge-fra-1');
  assert.equal(
    manifestSubject('ingress', 'ingress-ams-1'),
    'splitrelay.manifest.ingress.ingress-ams-1',
  );
  assert.equal(familyWildcard('egress-manifest'), 'splitrelay.manifest.egress.*');
  assert.equal(directorySubject('edge-fra-1'), 'splitrelay.directory.entry.edge-fra-1');
  assert.equal(egressHealthSubject('edge-fra-1'), 'splitrelay.health.egress.edge-fra-1');
  assert.equal(ingressHealthSubject('ingress-ams-1'), 'splitrelay.health.ingress.ingress-ams-1');
  assert.equal(ingressCertSubject('ingress-ams-1'), 'splitrelay.trunk.ingress-cert.ingress-ams-1');
  assert.equal(familyWildcard('directory'), 'splitrelay.directory.entry.*');
  assert.equal(familyWildcard('ingress-cert'), 'splitrelay.trunk.ingress-cert.*');
});

test('subjectFor and parseSubject round-trip for every family and relay id', () => {
  fc.assert(
    fc.property(fc.constantFrom(...FAMILIES), relayId, (family, id) => {
      assert.deepEqual(parseSubject(subjectFor(family, id)), { family, id });
    }),
  );
});

test('ids that are not DNS labels are refused when building', () => {
  for (const bad of [
    '',
    'Edge',
    '-edge',
    'edge-',
    'edge.fra',
    'edge fra',
    '10.0.0.1',
    '123',
    '0x1f',
    '*',
    '>',
    'a'.repeat(64),
    'edge\u0000',
  ]) {
    assert.equal(isRelayId(bad), false, bad);
    assert.throws(() => directorySubject(bad), TypeError, bad);
  }
});

test('parseSubject refuses other subjects, wildcards and extra tokens', () => {
  for (const subject of [
    '',
    'splitrelay',
    'splitrelay.directory.entry',
    'splitrelay.directory.entry.',
    'splitrelay.directory.entry.*',
    'splitrelay.directory.entry.>',
    'splitrelay.directory.entry.edge.fra',
    'splitrelay.directory.entry.Edge',
    'splitrelay.private.ingress.edge',
    'splitrelay.health.client.edge',
    'x.splitrelay.health.egress.edge',
  ]) {
    assert.equal(parseSubject(subject), undefined, subject);
  }
});

test('parseSubject never throws on arbitrary strings', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      const parsed = parseSubject(s);
      if (parsed !== undefined) assert.equal(subjectFor(parsed.family, parsed.id), s);
    }),
  );
});
