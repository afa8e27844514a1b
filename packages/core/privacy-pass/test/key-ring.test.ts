/**
 * The ingress's token key ring: configured keys stand, each issuer's newest announcement
 * replaces its previous one (so a key can be withdrawn), an older or replayed announcement
 * changes nothing, and challenges name the newest key valid now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { TokenKeyRing, base64url, generateIssuerKeyPem, loadIssuerKey } from '../src/index.ts';

const NOW = 1_800_000_000;
const keys = await Promise.all(
  [0, 1, 2].map(async () => loadIssuerKey(generateIssuerKeyPem().privateKeyPem)),
);
const [a, b, c] = keys as [(typeof keys)[0], (typeof keys)[0], (typeof keys)[0]];
const announce = (key: typeof a, notBefore: number, notAfter: number) => ({
  tokenKey: base64url(key.tokenKey.spki),
  notBefore,
  notAfter,
});
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

test('an issuer withdraws a key by announcing without it', () => {
  const ring = new TokenKeyRing(8 * 86400);
  ring.announce('issuer-1', 1000, [
    announce(a, NOW - 10, NOW + 3600),
    announce(b, NOW, NOW + 7200),
  ]);
  assert.ok('found' in ring.lookup(a.tokenKey.id, NOW));
  ring.announce('issuer-1', 2000, [announce(b, NOW, NOW + 7200)]);
  assert.deepEqual(ring.lookup(a.tokenKey.id, NOW), { refused: 'unknown token key' });
  assert.ok('found' in ring.lookup(b.tokenKey.id, NOW));
  assert.equal(ring.size, 1);
});

test('an older or replayed announcement changes nothing', () => {
  const ring = new TokenKeyRing(8 * 86400);
  ring.announce('issuer-1', 2000, [announce(b, NOW, NOW + 7200)]);
  // A replay of an older message that still listed `a` would bring it back: it must not.
  assert.deepEqual(ring.announce('issuer-1', 1000, [announce(a, NOW - 10, NOW + 3600)]), []);
  assert.deepEqual(ring.announce('issuer-1', 2000, [announce(a, NOW - 10, NOW + 3600)]), []);
  assert.deepEqual(ring.lookup(a.tokenKey.id, NOW), { refused: 'unknown token key' });
  // Another issuer's announcements are its own.
  ring.announce('issuer-2', 1, [announce(c, NOW - 10, NOW + 60)]);
  assert.ok('found' in ring.lookup(c.tokenKey.id, NOW));
  assert.ok('found' in ring.lookup(b.tokenKey.id, NOW));
});

test('challenges name the newest key valid now; a key outside its window is refused', () => {
  const ring = new TokenKeyRing(8 * 86400);
  ring.add([announce(a, NOW - 100, NOW + 100)]);
  ring.announce('issuer-1', 1, [
    announce(b, NOW - 50, NOW + 200),
    announce(c, NOW + 50, NOW + 300),
  ]);
  assert.equal(hex(ring.current(NOW)!.key.id), hex(b.tokenKey.id), 'b is the newest valid now');
  assert.equal(hex(ring.current(NOW + 60)!.key.id), hex(c.tokenKey.id), 'c once it starts');
  assert.equal(hex(ring.current(NOW + 250)!.key.id), hex(c.tokenKey.id));
  assert.equal(ring.current(NOW + 300), undefined);
  assert.deepEqual(ring.lookup(c.tokenKey.id, NOW), { refused: 'expired token key' });
  assert.deepEqual(ring.lookup(a.tokenKey.id, NOW + 100), { refused: 'expired token key' });
});

test('empty windows, keys that outlive the spent-token record and non-keys are refused', () => {
  const ring = new TokenKeyRing(3600);
  assert.deepEqual(
    ring.add([
      announce(a, NOW, NOW),
      announce(a, NOW, NOW + 7200),
      { tokenKey: base64url(new Uint8Array([0x30, 0x00])), notBefore: NOW, notAfter: NOW + 60 },
    ]),
    ['key window is empty', 'key outlives the spent-token store', 'not a Blind RSA 2048 token key'],
  );
  assert.equal(ring.size, 0);
});
