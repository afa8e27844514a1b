import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import fc from 'fast-check';
import { isRelayId } from '@splitrelay/authority';
import {
  DirectoryError,
  generateOperatorKey,
  keyIdOf,
  signEntry,
  verifyEntry,
  type DirectoryErrorCode,
  type Entry,
} from '../src/index.ts';
import { NOW, entryFor, operator, rawSign } from './fixtures.ts';

const op = operator();
const trusted = new Map([[op.kid, createPublicKey(op.privateKey)]]);

function throwsCode(fn: () => unknown, code: DirectoryErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DirectoryError, `expected DirectoryError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

test('sign then verify returns the same entry, frozen', () => {
  const entry = entryFor(op.kid);
  const verified = verifyEntry(signEntry(entry, op.privateKey, op.kid), trusted, NOW);
  assert.deepEqual(verified, entry);
  assert.ok(Object.isFrozen(verified));
  assert.ok(Object.isFrozen(verified.tlsPins));
});

test('the wire format is base64url JSON signed with the context prefix', () => {
  const entry = entryFor(op.kid);
  const signed = signEntry(entry, op.privateKey, op.kid);
  assert.deepEqual(Object.keys(signed).sort(), ['kid', 'payload', 'sig']);
  assert.match(signed.payload, /^[A-Za-z0-9_-]+$/);
  const payload = Buffer.from(signed.payload, 'base64url');
  assert.deepEqual(JSON.parse(payload.toString('utf8')), entry);
  const message = Buffer.concat([
    Buffer.from('splitrelay-directory-entry-v1\0', 'latin1'),
    payload,
  ]);
  const sig = Buffer.from(signed.sig, 'base64url');
  assert.equal(verify(null, message, createPublicKey(op.privateKey), sig), true);
  // Without the context the same signature must not verify: it is bound to this use.
  assert.equal(verify(null, payload, createPublicKey(op.privateKey), sig), false);
});

test('trusted keys may be given as PEM strings by kid', () => {
  const signed = signEntry(entryFor(op.kid), op.privateKey, op.kid);
  const entry = verifyEntry(signed, { [op.kid]: op.publicKeyPem }, NOW);
  assert.equal(entry.id, 'edge-fra-1');
});

test('a tampered payload byte fails with a generic bad-signature', () => {
  const signed = signEntry(entryFor(op.kid), op.privateKey, op.kid);
  const bytes = Buffer.from(signed.payload, 'base64url');
  const at = bytes.indexOf('8443');
  bytes[at] = '9'.charCodeAt(0);
  const tampered = { ...signed, payload: bytes.toString('base64url') };
  assert.throws(
    () => verifyEntry(tampered, trusted, NOW),
    (err: unknown) =>
      err instanceof DirectoryError &&
      err.code === 'bad-signature' &&
      err.message === 'signature verification failed',
  );
});

test('a kid nobody trusts is unknown-key; another key under a trusted kid is bad-signature', () => {
  const other = operator();
  throwsCode(
    () => verifyEntry(signEntry(entryFor(other.kid), other.privateKey, other.kid), trusted, NOW),
    'unknown-key',
  );
  const forged = signEntry(entryFor(other.kid), other.privateKey, other.kid);
  throwsCode(() => verifyEntry({ ...forged, kid: op.kid }, trusted, NOW), 'bad-signature');
});

test('validity window: notBefore inclusive, notAfter exclusive, now injected', () => {
  const signed = signEntry(
    entryFor(op.kid, { notBefore: 1000, notAfter: 2000 }),
    op.privateKey,
    op.kid,
  );
  throwsCode(() => verifyEntry(signed, trusted, 999), 'not-yet-valid');
  throwsCode(() => verifyEntry(signed, trusted, 999.9), 'not-yet-valid');
  assert.equal(verifyEntry(signed, trusted, 1000).notBefore, 1000);
  assert.equal(verifyEntry(signed, trusted, 1999.9).notAfter, 2000);
  throwsCode(() => verifyEntry(signed, trusted, 2000), 'expired');
  throwsCode(() => verifyEntry(signed, trusted, 5000), 'expired');
  assert.throws(() => verifyEntry(signed, trusted, Number.NaN), TypeError);
});

test('an unknown field is refused, even when correctly signed', () => {
  const withExtra = { ...entryFor(op.kid), relayHints: ['x'] };
  throwsCode(() => signEntry(withExtra as Entry, op.privateKey, op.kid), 'malformed');
  const signed = rawSign(JSON.stringify(withExtra), op.privateKey, op.kid);
  throwsCode(() => verifyEntry(signed, trusted, NOW), 'malformed');
});

test('an entry naming another operator than its signing kid is operator-mismatch', () => {
  const entry = entryFor('someone-else');
  throwsCode(() => signEntry(entry, op.privateKey, op.kid), 'operator-mismatch');
  const signed = rawSign(JSON.stringify(entry), op.privateKey, op.kid);
  throwsCode(() => verifyEntry(signed, trusted, NOW), 'operator-mismatch');
});

test('malformed envelopes and payloads are malformed, checked before the key is used', () => {
  const signed = signEntry(entryFor(op.kid), op.privateKey, op.kid);
  throwsCode(() => verifyEntry({ ...signed, extra: 1 }, trusted, NOW), 'malformed');
  throwsCode(
    () => verifyEntry({ ...signed, sig: `${signed.sig.slice(0, -1)}=` }, trusted, NOW),
    'malformed',
  );
  throwsCode(
    () => verifyEntry({ ...signed, payload: `${signed.payload}=` }, trusted, NOW),
    'malformed',
  );
  throwsCode(
    () => verifyEntry({ ...signed, payload: `${signed.payload}+` }, trusted, NOW),
    'malformed',
  );
  throwsCode(() => verifyEntry(null, trusted, NOW), 'malformed');
  throwsCode(() => verifyEntry('x', trusted, NOW), 'malformed');
  throwsCode(
    () => verifyEntry(rawSign('{"v":1', op.privateKey, op.kid), trusted, NOW),
    'malformed',
  );
  throwsCode(
    () =>
      verifyEntry(rawSign(Buffer.from([0x22, 0xff, 0x22]), op.privateKey, op.kid), trusted, NOW),
    'malformed',
  );
  throwsCode(() => verifyEntry(rawSign('[]', op.privateKey, op.kid), trusted, NOW), 'malformed');
});

test('a non-canonical base64url spelling of the same bytes is refused', () => {
  // 64 signature bytes leave 4 unused bits in the last character; setting one of them
  // changes the text but not the bytes Buffer decodes.
  const signed = signEntry(entryFor(op.kid), op.privateKey, op.kid);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(signed.sig.at(-1) ?? 'A');
  const twisted = `${signed.sig.slice(0, -1)}${alphabet[last ^ 1]}`;
  assert.deepEqual(Buffer.from(twisted, 'base64url'), Buffer.from(signed.sig, 'base64url'));
  throwsCode(() => verifyEntry({ ...signed, sig: twisted }, trusted, NOW), 'malformed');
});

test('trusted keys that are not Ed25519 public keys are a configuration error', () => {
  const signed = signEntry(entryFor(op.kid), op.privateKey, op.kid);
  assert.throws(() => verifyEntry(signed, { [op.kid]: 'not a pem' }, NOW), TypeError);
  assert.throws(() => verifyEntry(signed, new Map([[op.kid, op.privateKey]]), NOW), TypeError);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  assert.throws(() => verifyEntry(signed, new Map([[op.kid, ec]]), NOW), TypeError);
  assert.throws(
    () => signEntry(entryFor(op.kid), createPublicKey(op.privateKey), op.kid),
    TypeError,
  );
});

test('generateOperatorKey names the key by a kid anyone can recompute', () => {
  const key = generateOperatorKey();
  assert.match(key.kid, /^[0-9a-f]{16}$/);
  assert.equal(keyIdOf(key.publicKeyPem), key.kid);
  assert.equal(keyIdOf(key.privateKeyPem), key.kid);
  assert.equal(keyIdOf(createPublicKey(key.publicKeyPem)), key.kid);
  assert.notEqual(generateOperatorKey().kid, key.kid);
});

test('property: any single-bit flip of the payload or the signature fails verification', () => {
  const signed = signEntry(entryFor(op.kid), op.privateKey, op.kid);
  const payload = Buffer.from(signed.payload, 'base64url');
  const sig = Buffer.from(signed.sig, 'base64url');
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.nat({ max: 1_000_000 }),
      fc.integer({ min: 0, max: 7 }),
      (inPayload, position, bit) => {
        const bytes = Buffer.from(inPayload ? payload : sig);
        const i = position % bytes.length;
        bytes[i] = (bytes[i] ?? 0) ^ (1 << bit);
        const flipped = inPayload
          ? { ...signed, payload: bytes.toString('base64url') }
          : { ...signed, sig: bytes.toString('base64url') };
        throwsCode(() => verifyEntry(flipped, trusted, NOW), 'bad-signature');
      },
    ),
    { numRuns: 500 },
  );
});

test('property: any single-character change of the signed text never verifies', () => {
  const signed = signEntry(entryFor(op.kid), op.privateKey, op.kid);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ ';
  fc.assert(
    fc.property(
      fc.constantFrom('payload' as const, 'sig' as const),
      fc.nat(),
      fc.constantFrom(...alphabet),
      (field, position, ch) => {
        const text = signed[field];
        const i = position % text.length;
        fc.pre(text[i] !== ch);
        const changed = { ...signed, [field]: text.slice(0, i) + ch + text.slice(i + 1) };
        assert.throws(() => verifyEntry(changed, trusted, NOW), DirectoryError);
      },
    ),
    { numRuns: 500 },
  );
});

const validEntry = (kid: string): fc.Arbitrary<Entry> =>
  fc
    .record({
      id: fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/).filter(isRelayId),
      endpoint: fc.oneof(
        fc
          .tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 65535 }))
          .map(([a, b, port]) => `127.${a}.${b}.1:${port}`),
        fc.constantFrom('egress.example:443', '[::1]:8443', 'a-b.c:1'),
      ),
      region: fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,63}$/),
      tlsPins: fc.uniqueArray(
        fc
          .uint8Array({ minLength: 32, maxLength: 32 })
          .map((b) => Buffer.from(b).toString('base64')),
        { minLength: 1, maxLength: 4 },
      ),
      notBefore: fc.nat(2 ** 40),
      lifetime: fc.integer({ min: 1, max: 2 ** 30 }),
      version: fc.maxSafeNat(),
    })
    .map(({ lifetime, ...e }) => ({
      v: 1 as const,
      operator: kid,
      ...e,
      notAfter: e.notBefore + lifetime,
    }));

test('property: every valid entry round-trips through sign and verify', () => {
  fc.assert(
    fc.property(validEntry(op.kid), (entry) => {
      const verified = verifyEntry(
        signEntry(entry, op.privateKey, op.kid),
        trusted,
        entry.notBefore,
      );
      assert.deepEqual(verified, entry);
    }),
    { numRuns: 200 },
  );
});

test('property: arbitrary input never throws anything but a DirectoryError', () => {
  const signedLike = fc.record({
    payload: fc.oneof(
      fc.string(),
      fc.base64String().map((s) => s.replace(/=+$/, '')),
    ),
    sig: fc.oneof(fc.string({ minLength: 86, maxLength: 86 }), fc.string()),
    kid: fc.oneof(fc.constant(op.kid), fc.string()),
  });
  fc.assert(
    fc.property(fc.oneof(fc.anything(), signedLike), (input) => {
      assert.throws(() => verifyEntry(input, trusted, NOW), DirectoryError);
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const signed = rawSign(JSON.stringify(value) ?? 'null', op.privateKey, op.kid);
      assert.throws(() => verifyEntry(signed, trusted, NOW), DirectoryError);
    }),
    { numRuns: 300 },
  );
});
