import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { entrySchema, parseEndpoint } from '../src/index.ts';
import { entryFor, pinOf } from './fixtures.ts';

const KID = '0123456789abcdef';

function problems(input: unknown): string[] {
  const result = entrySchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
}

test('a complete entry is accepted', () => {
  assert.deepEqual(problems(entryFor(KID)), []);
});

test('unknown keys, a wrong version and missing fields are each reported', () => {
  assert.deepEqual(problems({ ...entryFor(KID), extra: true }), ['']);
  assert.deepEqual(problems(entryFor(KID, { v: 2 })), ['v']);
  const { region: _region, ...withoutRegion } = entryFor(KID);
  assert.deepEqual(problems(withoutRegion), ['region']);
});

test('egress ids are relay ids: DNS labels that are not numbers', () => {
  for (const id of ['a', 'edge-1', '0a', 'x'.repeat(63)]) {
    assert.deepEqual(problems(entryFor(KID, { id })), [], id);
  }
  // '0' and '0x1f' were once accepted here, but `CONNECT 0:443` is refused by the authority
  // parser: an egress by such an id could never be reached.
  for (const id of ['', '-a', 'a-', 'A', 'a.b', 'a_b', 'x'.repeat(64), 'é', '0', '0x1f']) {
    assert.deepEqual(problems(entryFor(KID, { id })), ['id'], id);
  }
});

test('tlsPins: one to four distinct SHA-256 pins', () => {
  const pins = ['a', 'b', 'c', 'd', 'e'].map(pinOf);
  assert.deepEqual(problems(entryFor(KID, { tlsPins: pins.slice(0, 4) })), []);
  assert.deepEqual(problems(entryFor(KID, { tlsPins: [] })), ['tlsPins']);
  assert.deepEqual(problems(entryFor(KID, { tlsPins: pins })), ['tlsPins']);
  assert.deepEqual(problems(entryFor(KID, { tlsPins: [pins[0], pins[0]] })), ['tlsPins']);
  assert.deepEqual(problems(entryFor(KID, { tlsPins: ['c2hvcnQ='] })), ['tlsPins.0']);
  const urlSafe = pinOf('a').replaceAll('+', '-').replaceAll('/', '_');
  if (urlSafe !== pinOf('a'))
    assert.deepEqual(problems(entryFor(KID, { tlsPins: [urlSafe] })), ['tlsPins.0']);
});

test('times are whole unix seconds and the window is not empty', () => {
  assert.deepEqual(problems(entryFor(KID, { notBefore: 10, notAfter: 10 })), ['notAfter']);
  assert.deepEqual(problems(entryFor(KID, { notBefore: 1.5 })), ['notBefore']);
  assert.deepEqual(problems(entryFor(KID, { notBefore: -1 })), ['notBefore']);
  assert.deepEqual(problems(entryFor(KID, { version: 2 ** 53 })), ['version']);
  const { notBefore: _nb, ...withoutNotBefore } = entryFor(KID);
  assert.deepEqual(problems(withoutNotBefore), ['notBefore']);
});

test('endpoints: DNS name, IPv4 or bracketed IPv6, each in one spelling, with a port', () => {
  assert.deepEqual(parseEndpoint('egress.example:443'), { host: 'egress.example', port: 443 });
  assert.deepEqual(parseEndpoint('127.0.0.2:8443'), { host: '127.0.0.2', port: 8443 });
  assert.deepEqual(parseEndpoint('[::1]:1'), { host: '::1', port: 1 });
  assert.deepEqual(parseEndpoint('[2001:db8::5]:65535'), { host: '2001:db8::5', port: 65535 });
  for (const bad of [
    'egress.example',
    'egress.example:',
    ':443',
    'egress.example:0',
    'egress.example:65536',
    'egress.example:0443',
    'Egress.example:443',
    '-egress.example:443',
    'egress..example:443',
    '127.0.0.01:443',
    '127.0.0.256:443',
    '1.2.3:443',
    '::1:443',
    '[::1]',
    '[0:0:0:0:0:0:0:1]:443',
    '[::g]:443',
    'host name:443',
    'user@host:443',
  ]) {
    assert.equal(parseEndpoint(bad), undefined, bad);
    assert.deepEqual(problems(entryFor(KID, { endpoint: bad })), ['endpoint'], bad);
  }
});

test('property: parseEndpoint never throws and agrees with the schema', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (s) => {
      const parsed = parseEndpoint(s);
      assert.equal(problems(entryFor(KID, { endpoint: s })).length === 0, parsed !== undefined);
      if (parsed !== undefined) {
        const host = parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host;
        assert.equal(`${host}:${parsed.port}`, s);
      }
    }),
    { numRuns: 2000 },
  );
});

test('serves: sorted, distinct ISO 3166-1 or 3166-2 codes, optional', () => {
  for (const serves of [['DE'], ['DE', 'DE-BY', 'FR'], ['US-CA'], ['FR', 'FR-IDF']]) {
    assert.deepEqual(problems(entryFor(KID, { serves })), [], serves.join());
  }
  for (const serves of [[], ['de'], ['DE', 'DE'], ['FR', 'DE'], ['DEU'], ['DE-'], ['DE-BAYE']]) {
    const found = problems(entryFor(KID, { serves }));
    assert.ok(found.length > 0 && found.every((p) => p.startsWith('serves')), serves.join());
  }
  assert.deepEqual(
    problems(
      entryFor(KID, {
        serves: Array.from({ length: 257 }, (_, i) => `D${String.fromCharCode(65 + (i % 26))}`),
      }),
    ).slice(0, 1),
    ['serves'],
  );
});

test('geofeed and manifest: canonical https URLs, http only on loopback', () => {
  for (const url of [
    'https://relay.example/geofeed.csv',
    'https://relay.example:8443/.well-known/splitrelay/manifest',
    'http://127.0.3.1:9000/geofeed.csv',
    'http://[::1]:9000/geofeed.csv',
  ]) {
    assert.deepEqual(problems(entryFor(KID, { geofeed: url, manifest: url })), [], url);
  }
  for (const url of [
    'http://relay.example/geofeed.csv',
    'https://RELAY.example/geofeed.csv',
    'https://relay.example/geofeed.csv?client=1',
    'https://relay.example/geofeed.csv#x',
    'https://user:pw@relay.example/geofeed.csv',
    'https://relay.example/a%20b',
    'ftp://relay.example/geofeed.csv',
    'relay.example/geofeed.csv',
    `https://relay.example/${'a'.repeat(600)}`,
  ]) {
    assert.deepEqual([...new Set(problems(entryFor(KID, { geofeed: url })))], ['geofeed'], url);
    assert.deepEqual([...new Set(problems(entryFor(KID, { manifest: url })))], ['manifest'], url);
  }
});
