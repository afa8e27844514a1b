import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RELAY_ID, isRelayId, parseAuthority, parseHost } from '../src/index.ts';

test('relay ids are lower-case DNS labels that are not numbers', () => {
  for (const id of ['a', 'egress-1', 'edge-fra-1', '1a', 'a1', '0xg', 'x'.repeat(63), 'a-b-c']) {
    assert.equal(isRelayId(id), true, id);
    assert.equal(RELAY_ID.test(id), true, id);
  }
  for (const id of [
    '',
    '-a',
    'a-',
    '-',
    'A',
    'Egress-1',
    'a.b',
    'a.',
    'a_b',
    '_a',
    'x'.repeat(64),
    'é',
    '0',
    '123',
    '0x',
    '0x7f',
    '0xdeadbeef',
    ' a',
    'a\n',
  ]) {
    assert.equal(isRelayId(id), false, JSON.stringify(id));
  }
  assert.equal(isRelayId(undefined), false);
  assert.equal(isRelayId(7), false);
});

test('a relay id always stands as the host of CONNECT <id>:443', () => {
  // The reason numbers are refused: the authority parser would refuse `CONNECT 123:443`.
  assert.throws(() => parseAuthority('123:443'));
  assert.deepEqual(parseAuthority('egress-1:443'), { host: 'egress-1', port: 443, kind: 'dns' });
});

/** Label-ish strings, biased toward the edges of the rule. */
const labelish = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'ab0x9-_.AZ'), maxLength: 8 }),
  fc.stringMatching(/^[a-z0-9-]{60,66}$/),
  fc.stringMatching(/^(?:0x[0-9a-fA-F]{0,4}|[0-9]{1,4})$/),
  fc.string({ maxLength: 10 }),
);

test('property: isRelayId ⇔ parseHost keeps it as a one-label DNS name, spelled as given, without _', () => {
  fc.assert(
    fc.property(labelish, (s) => {
      let expected: boolean;
      try {
        const h = parseHost(s);
        expected = h.kind === 'dns' && h.host === s && !s.includes('.') && !s.includes('_');
      } catch {
        expected = false;
      }
      assert.equal(isRelayId(s), expected, JSON.stringify(s));
    }),
    { numRuns: 5000 },
  );
});
