/**
 * Interoperability with hpke-js (@hpke/core, @hpke/dhkem-x25519, @hpke/chacha20poly1305), a
 * second maintained HPKE implementation: requests sealed here open there and the reverse,
 * for both X25519 suites, with exports compared on both sides. X-Wing is checked against
 * panva's own WebCrypto backend, which Node 26 runs on its native MLKEM768-X25519 (a
 * different code path from this package's ML-KEM + X25519 + SHA3 assembly).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aes128Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import {
  AEAD_AES_128_GCM,
  AEAD_CHACHA20_POLY1305,
  createSuite,
  KDF_HKDF_SHA256,
  KEM_X25519,
  KEM_XWING,
} from '../src/index.ts';
import { utf8 } from './helpers.ts';

const info = utf8('message/bhttp request\u0000\u0001\u0000\u0020\u0000\u0001\u0000\u0001');
const aad = utf8('aad');
const exportContext = utf8('message/bhttp response');
const plaintexts = [new Uint8Array(0), utf8('hello'), new Uint8Array(5000).fill(0xab)];

for (const [name, aeadId] of [
  ['AES-128-GCM', AEAD_AES_128_GCM],
  ['ChaCha20Poly1305', AEAD_CHACHA20_POLY1305],
] as const) {
  const theirs = new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: aeadId === AEAD_AES_128_GCM ? new Aes128Gcm() : new Chacha20Poly1305(),
  });
  const ours = createSuite({ kemId: KEM_X25519, kdfId: KDF_HKDF_SHA256, aeadId });

  test(`X25519/${name}: sealed here, opened by hpke-js`, async () => {
    const pair = await theirs.kem.generateKeyPair();
    const pk = new Uint8Array(await theirs.kem.serializePublicKey(pair.publicKey));
    const { enc, context } = await ours.setupSender(await ours.importPublicKey(pk), info);
    const recipient = await theirs.createRecipientContext({ recipientKey: pair, enc, info });
    for (const pt of plaintexts) {
      const opened = await recipient.open(await context.seal(pt, aad), aad);
      assert.deepEqual(new Uint8Array(opened), pt);
    }
    assert.deepEqual(
      new Uint8Array(await recipient.export(exportContext, 16)),
      await context.export(exportContext, 16),
    );
  });

  test(`X25519/${name}: sealed by hpke-js, opened here`, async () => {
    const mine = await ours.generateKeyPair();
    const theirPk = await theirs.kem.deserializePublicKey(mine.publicKey.publicKey);
    const sender = await theirs.createSenderContext({ recipientPublicKey: theirPk, info });
    const skR = await ours.importPrivateKey(mine.privateKeyBytes);
    const recipient = await ours.setupRecipient(skR, new Uint8Array(sender.enc), info);
    for (const pt of plaintexts) {
      const ct = new Uint8Array(await sender.seal(pt, aad));
      assert.deepEqual(await recipient.open(ct, aad), pt);
    }
    assert.deepEqual(
      await recipient.export(exportContext, 16),
      new Uint8Array(await sender.export(exportContext, 16)),
    );
  });

  test(`X25519/${name}: a private key made by hpke-js imports here`, async () => {
    const pair = await theirs.kem.generateKeyPair();
    const sk = new Uint8Array(await theirs.kem.serializePrivateKey(pair.privateKey));
    const pk = new Uint8Array(await theirs.kem.serializePublicKey(pair.publicKey));
    assert.deepEqual((await ours.importPrivateKey(sk)).publicKey, pk);
  });
}

test('X-Wing: this package and the library WebCrypto backend agree both ways', async () => {
  const ids = { kemId: KEM_XWING, kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM };
  const node = createSuite(ids);
  const web = createSuite(ids, { backend: 'webcrypto' });
  for (const [from, to] of [
    [node, web],
    [web, node],
  ] as const) {
    const ikm = crypto.getRandomValues(new Uint8Array(32));
    const recipientFrom = await from.deriveKeyPair(ikm);
    const recipientTo = await to.deriveKeyPair(ikm);
    // DeriveKeyPair must agree byte for byte across implementations.
    assert.deepEqual(recipientFrom.publicKey.publicKey, recipientTo.publicKey.publicKey);
    assert.deepEqual(recipientFrom.privateKeyBytes, recipientTo.privateKeyBytes);
    const { enc, context } = await from.setupSender(recipientFrom.publicKey, info);
    const ct = await context.seal(utf8('post-quantum'), aad);
    const opened = await (await to.setupRecipient(recipientTo.privateKey, enc, info)).open(ct, aad);
    assert.deepEqual(opened, utf8('post-quantum'));
  }
});
