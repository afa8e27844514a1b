/** Key windows, preference order, the directory, what is announced, and truncated-id clashes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DIRECTORY_MAX_AGE_SECONDS,
  IssuerKeySet,
  fromBase64url,
  generateIssuerKeyPem,
  issuerDirectorySchema,
  loadIssuerKey,
  type IssuerKey,
  type ScheduledKey,
} from '../src/index.ts';

const T = 1_800_000_000;
const pool: IssuerKey[] = [];
for (let i = 0; pool.length < 4 && i < 50; i++) {
  const key = await loadIssuerKey(generateIssuerKeyPem().privateKeyPem);
  if (!pool.some((k) => k.tokenKey.truncatedId === key.tokenKey.truncatedId)) pool.push(key);
}
const [a, b, c, d] = pool as [IssuerKey, IssuerKey, IssuerKey, IssuerKey];
const at = (key: IssuerKey, notBefore: number, notAfter: number): ScheduledKey => ({
  key,
  notBefore,
  notAfter,
});
const hex = (k: ScheduledKey): string => Buffer.from(k.key.tokenKey.spki).toString('hex');

test('validAt: windows are [notBefore, notAfter), newest notBefore first', () => {
  const set = new IssuerKeySet([
    at(a, T - 100, T + 100),
    at(b, T, T + 200),
    at(c, T + 100, T + 300),
    at(d, T - 300, T - 100),
  ]);
  assert.deepEqual(set.validAt(T).map(hex), [at(b, 0, 1), at(a, 0, 1)].map(hex));
  assert.deepEqual(set.validAt(T - 1).map(hex), [at(a, 0, 1)].map(hex));
  assert.deepEqual(set.validAt(T + 100).map(hex), [at(c, 0, 1), at(b, 0, 1)].map(hex));
  assert.deepEqual(set.validAt(T - 100).map(hex), [at(a, 0, 1)].map(hex));
  assert.deepEqual(set.validAt(T + 300), []);
  assert.deepEqual(
    set.unexpiredAt(T).map(hex),
    [c, b, a].map((k) => hex(at(k, 0, 1))),
  );
});

test('the directory lists the valid keys (schema-valid), cacheable until the next change', () => {
  const set = new IssuerKeySet([at(a, T - 100, T + 100), at(b, T, T + 5000)]);
  const dir = set.directory(T);
  issuerDirectorySchema.parse(dir);
  assert.equal(dir['issuer-request-uri'], '/token-request');
  assert.deepEqual(
    dir['token-keys'].map((k) => Buffer.from(fromBase64url(k['token-key'])).toString('hex')),
    [b, a].map((k) => hex(at(k, 0, 1))),
  );
  assert.deepEqual(
    dir['token-keys'].map((k) => k['not-before']),
    [T, T - 100],
  );
  assert.equal(set.directoryMaxAge(T), 100);
  assert.equal(set.directoryMaxAge(T + 100), DIRECTORY_MAX_AGE_SECONDS);
  assert.equal(set.nextChangeAfter(T + 5000), undefined);
  assert.equal(set.directoryMaxAge(T + 5000), DIRECTORY_MAX_AGE_SECONDS);
});

test('announced: keys issuing now or later, newest first, as base64url SPKI', () => {
  const set = new IssuerKeySet([
    at(a, T - 100, T + 100),
    at(b, T + 50, T + 5000),
    at(c, T - 500, T - 100),
  ]);
  const keys = set.announced(T);
  assert.deepEqual(
    keys.map((k) => [k.notBefore, k.notAfter]),
    [
      [T + 50, T + 5000],
      [T - 100, T + 100],
    ],
  );
  assert.deepEqual(fromBase64url(keys[0]!.tokenKey), b.tokenKey.spki);
  assert.deepEqual(set.announced(T + 5000), []);
});

test('refuses a key listed twice and overlapping keys that share a truncated id', () => {
  assert.throws(() => new IssuerKeySet([at(a, T, T + 10), at(a, T + 20, T + 30)]), /same key/);
  assert.throws(() => new IssuerKeySet([at(a, T + 10, T)]), /notAfter/);
  // Another key with a's truncated id (1 in 256 keys has one; made up here to save minutes of
  // key generation): a request could not say which one it means, and both would "sign" it.
  const twin: IssuerKey = {
    ...b,
    tokenKey: { ...b.tokenKey, truncatedId: a.tokenKey.truncatedId },
  };
  assert.throws(
    () => new IssuerKeySet([at(a, T, T + 100), at(twin, T + 50, T + 150)]),
    /truncated key id/,
  );
  // Windows that do not overlap may share it.
  assert.equal(new IssuerKeySet([at(a, T, T + 100), at(twin, T + 100, T + 200)]).size, 2);
});
