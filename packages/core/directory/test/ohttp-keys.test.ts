import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import {
  MAX_OHTTP_KEYS_BYTES,
  entrySchema,
  ohttpKeyIds,
  ohttpKeysBytes,
  ohttpKeysProblem,
  signEntry,
  verifyEntry,
} from '../src/index.ts';
import { NOW, entryFor, operator } from './fixtures.ts';

/** One key configuration, written apart from any OHTTP code: id, KEM, key, one suite. */
function keyConfig(keyId: number, publicKeyBytes = 32, kemId = 0x0020): Buffer {
  const config = Buffer.alloc(1 + 2 + publicKeyBytes + 2 + 4);
  config[0] = keyId;
  config.writeUInt16BE(kemId, 1);
  config.fill(0xab, 3, 3 + publicKeyBytes);
  config.writeUInt16BE(4, 3 + publicKeyBytes);
  config.writeUInt16BE(0x0001, 5 + publicKeyBytes);
  config.writeUInt16BE(0x0001, 7 + publicKeyBytes);
  return config;
}

const list = (...configs: Buffer[]): Buffer =>
  Buffer.concat(configs.flatMap((c) => [Buffer.from([c.length >> 8, c.length & 0xff]), c]));

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

test('a list of X25519 and X-Wing configurations is accepted, and reads back as given', () => {
  const bytes = list(keyConfig(1), keyConfig(2, 1216, 0x647a));
  const text = b64(bytes);
  assert.equal(ohttpKeysProblem(text), undefined);
  assert.deepEqual(Buffer.from(ohttpKeysBytes(text)), bytes);
  assert.deepEqual(ohttpKeyIds(text), [1, 2]);
  assert.ok(entrySchema.safeParse(entryFor('0123456789abcdef', { ohttpKeys: text })).success);
  // The field is optional: entries without a gateway stay as they were.
  assert.ok(entrySchema.safeParse(entryFor('0123456789abcdef')).success);
});

test('every strict prefix is refused unless it ends exactly after a whole configuration', () => {
  const first = keyConfig(7);
  const bytes = list(first, keyConfig(9));
  for (let n = 1; n < bytes.length; n++) {
    const problem = ohttpKeysProblem(b64(bytes.subarray(0, n)));
    if (n === first.length + 2) assert.equal(problem, undefined, `prefix ${n}`);
    else assert.notEqual(problem, undefined, `prefix ${n}`);
  }
  assert.notEqual(ohttpKeysProblem(''), undefined);
});

test('bad spellings, repeated identifiers, short configurations and oversize lists are refused', () => {
  const good = b64(list(keyConfig(1)));
  assert.match(ohttpKeysProblem(`${good}=`) ?? '', /base64url/);
  assert.match(ohttpKeysProblem(good.replace(/-/g, '+').replace(/_/g, '/') + '+') ?? '', /base64/);
  assert.match(ohttpKeysProblem(b64(list(keyConfig(3), keyConfig(3)))) ?? '', /repeat/);
  assert.match(ohttpKeysProblem(b64(list(Buffer.from([1, 0, 0x20])))) ?? '', /too short/);
  // A length that announces more than follows.
  assert.match(ohttpKeysProblem(b64(Buffer.from([0, 200, 1, 0, 0x20]))) ?? '', /cut short/);
  const many = list(...Array.from({ length: 7 }, (_, i) => keyConfig(i, 1216, 0x647a)));
  assert.ok(many.length > MAX_OHTTP_KEYS_BYTES);
  assert.match(ohttpKeysProblem(b64(many)) ?? '', /bytes/);
  const issues = entrySchema.safeParse(entryFor('0123456789abcdef', { ohttpKeys: b64(many) }));
  assert.equal(issues.success, false);
  assert.deepEqual(
    issues.error?.issues.map((i) => i.path.join('.')),
    ['ohttpKeys'],
    'over the schema bound: refused by length before any decoding',
  );
});

test('a signed entry carries its keys through signing and verification', () => {
  const op = operator();
  const ohttpKeys = b64(list(keyConfig(4)));
  const signed = signEntry(entryFor(op.kid, { ohttpKeys }), op.privateKey, op.kid);
  assert.equal(verifyEntry(signed, op.trusted, NOW).ohttpKeys, ohttpKeys);
});

test('random texts and random byte lists only ever give a reason or undefined', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      const problem = ohttpKeysProblem(text);
      assert.ok(problem === undefined || typeof problem === 'string');
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
      const problem = ohttpKeysProblem(b64(bytes));
      if (problem === undefined) assert.ok(ohttpKeyIds(b64(bytes)).length > 0);
    }),
    { numRuns: 500 },
  );
});

test('fast-check: lists of distinct identifiers round-trip', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 64 }),
      (ids, size) => {
        const text = b64(list(...ids.map((id) => keyConfig(id, size))));
        assert.equal(ohttpKeysProblem(text), undefined);
        assert.deepEqual(ohttpKeyIds(text), ids);
      },
    ),
  );
});
