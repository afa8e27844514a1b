/**
 * RFC 9180 Appendix A vectors (X25519 with AES-128-GCM and ChaCha20-Poly1305, base and PSK
 * modes) and the draft-ietf-hpke-pq X-Wing vector, all through the public API. Sources are in
 * vectors/SOURCES.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSuite, HpkeError } from '../src/index.ts';
import { hex, readVectors, rejectsReason, scriptedRng, toHex, type HpkeVector } from './helpers.ts';

const rfc9180 = readVectors<HpkeVector[]>('rfc9180-x25519.json');
const xwing = readVectors<HpkeVector[]>('hpke-pq-xwing.json');

function idsOf(v: HpkeVector) {
  return { kemId: v.kem_id, kdfId: v.kdf_id, aeadId: v.aead_id };
}

function pskOf(v: HpkeVector) {
  return v.psk === undefined ? undefined : { psk: hex(v.psk), pskId: hex(v.psk_id ?? '') };
}

for (const v of rfc9180) {
  test(`RFC 9180 ${v.section}: keys, enc, every listed ciphertext and export, both sides`, async () => {
    const rng = scriptedRng([hex(v.skEm ?? '')]);
    const suite = createSuite(idsOf(v), { rng });
    const recipient = await suite.deriveKeyPair(hex(v.ikmR));
    assert.equal(toHex(recipient.publicKey.publicKey), v.pkRm);
    assert.equal(toHex(recipient.privateKeyBytes), v.skRm);
    const ephemeral = await suite.deriveKeyPair(hex(v.ikmE));
    assert.equal(toHex(ephemeral.privateKeyBytes), v.skEm);
    assert.equal(toHex(ephemeral.publicKey.publicKey), v.pkEm);

    // Sender: the scripted rng supplies skEm, so enc must be the vector's.
    const pkR = await suite.importPublicKey(hex(v.pkRm));
    const { enc, context: sender } = await suite.setupSender(pkR, hex(v.info), pskOf(v));
    assert.equal(toHex(enc), v.enc);
    assert.equal(rng.remaining(), 0);

    // Seal every sequence number up to the last listed one (the context's counter must pass
    // through them), keeping each ciphertext for the recipient.
    const last = Math.max(...v.encryptions.map((e) => e.seq));
    const sealed: Uint8Array[] = [];
    const pt = hex(v.encryptions[0]?.pt ?? '');
    for (let seq = 0; seq <= last; seq++) {
      const listed = v.encryptions.find((e) => e.seq === seq);
      const aad = listed ? hex(listed.aad) : new TextEncoder().encode(`Count-${seq}`);
      const ct = await sender.seal(pt, aad);
      if (listed) assert.equal(toHex(ct), listed.ct, `seq ${seq}`);
      sealed.push(ct);
    }
    for (const e of v.exports) {
      assert.equal(toHex(await sender.export(hex(e.context), e.L)), e.value);
    }

    // Recipient: import skRm once, open everything in order. Twice: with the default
    // suite (X25519 Decap is OpenSSL's DHKEM) and with the rng-injected one (Decap step by
    // step in JavaScript), so both paths meet the RFC.
    for (const recipientSuite of [createSuite(idsOf(v)), suite]) {
      const skR = await recipientSuite.importPrivateKey(hex(v.skRm));
      assert.equal(toHex(skR.publicKey), v.pkRm);
      const receiver = await recipientSuite.setupRecipient(skR, hex(v.enc), hex(v.info), pskOf(v));
      for (let seq = 0; seq <= last; seq++) {
        const listed = v.encryptions.find((e) => e.seq === seq);
        const aad = listed ? hex(listed.aad) : new TextEncoder().encode(`Count-${seq}`);
        const opened = await receiver.open(sealed[seq] as Uint8Array, aad);
        assert.equal(toHex(opened), toHex(pt), `seq ${seq}`);
      }
      for (const e of v.exports) {
        assert.equal(toHex(await receiver.export(hex(e.context), e.L)), e.value);
      }
    }
  });
}

for (const v of xwing) {
  test(`draft-ietf-hpke-pq ${v.section} (X-Wing): DeriveKeyPair, Decap, Open, Export`, async () => {
    const suite = createSuite(idsOf(v));
    const recipient = await suite.deriveKeyPair(hex(v.ikmR));
    assert.equal(toHex(recipient.publicKey.publicKey), v.pkRm);
    assert.equal(toHex(recipient.privateKeyBytes), v.skRm);
    const skR = await suite.importPrivateKey(hex(v.skRm));
    assert.equal(toHex(skR.publicKey), v.pkRm);
    const receiver = await suite.setupRecipient(skR, hex(v.enc), hex(v.info));
    for (const e of v.encryptions) {
      assert.equal(toHex(await receiver.open(hex(e.ct), hex(e.aad))), e.pt, `seq ${e.seq}`);
    }
    for (const e of v.exports) {
      assert.equal(toHex(await receiver.export(hex(e.context), e.L)), e.value);
    }
  });
}

test('a flipped bit anywhere in a vector ciphertext fails as one generic open-failed', async () => {
  const v = rfc9180[0] as HpkeVector;
  const suite = createSuite(idsOf(v));
  const skR = await suite.importPrivateKey(hex(v.skRm));
  const ct = hex((v.encryptions[0] as { ct: string }).ct);
  const messages = new Set<string>();
  for (let i = 0; i < ct.length * 8; i += 7) {
    const receiver = await suite.setupRecipient(skR, hex(v.enc), hex(v.info));
    const bad = ct.slice();
    bad[i >> 3] = (bad[i >> 3] as number) ^ (1 << (i & 7));
    await assert.rejects(receiver.open(bad, hex('436f756e742d30')), (err: unknown) => {
      assert.ok(err instanceof HpkeError);
      assert.equal(err.reason, 'open-failed');
      messages.add(err.message);
      return true;
    });
  }
  assert.deepEqual([...messages], ['decryption failed']);
});

test('wrong info, wrong aad, wrong PSK and short ciphertexts fail as open-failed', async () => {
  const v = rfc9180[1] as HpkeVector; // PSK mode
  const suite = createSuite(idsOf(v));
  const skR = await suite.importPrivateKey(hex(v.skRm));
  const e0 = v.encryptions[0] as { ct: string; aad: string };
  const psk = pskOf(v);
  const open = async (info: Uint8Array, aad: Uint8Array, ct: Uint8Array, p = psk) =>
    (await suite.setupRecipient(skR, hex(v.enc), info, p)).open(ct, aad);
  await rejectsReason(open(hex('00'), hex(e0.aad), hex(e0.ct)), 'open-failed');
  await rejectsReason(open(hex(v.info), hex('00'), hex(e0.ct)), 'open-failed');
  const otherPsk = { psk: new Uint8Array(32).fill(7), pskId: psk?.pskId ?? new Uint8Array(1) };
  await rejectsReason(open(hex(v.info), hex(e0.aad), hex(e0.ct), otherPsk), 'open-failed');
  for (const n of [0, 1, 15, 16]) {
    await rejectsReason(open(hex(v.info), hex(e0.aad), hex(e0.ct).subarray(0, n)), 'open-failed');
  }
});

test('bad key and enc sizes are typed errors, not crashes', async () => {
  const v = rfc9180[0] as HpkeVector;
  const suite = createSuite(idsOf(v));
  await rejectsReason(suite.importPrivateKey(new Uint8Array(31)), 'invalid-key');
  await rejectsReason(suite.importPublicKey(new Uint8Array(33)), 'invalid-key');
  const skR = await suite.importPrivateKey(hex(v.skRm));
  await rejectsReason(suite.setupRecipient(skR, new Uint8Array(31), hex(v.info)), 'decap-failed');
  // The all-zero point is small order: the DH output is zero and RFC 9180 §7.1.4 says fail,
  // in OpenSSL's DHKEM and in the step-by-step path alike.
  await rejectsReason(suite.setupRecipient(skR, new Uint8Array(32), hex(v.info)), 'decap-failed');
  const stepwise = createSuite(idsOf(v), { rng: () => new Uint8Array(32).fill(1) });
  const skR2 = await stepwise.importPrivateKey(hex(v.skRm));
  await rejectsReason(
    stepwise.setupRecipient(skR2, new Uint8Array(32), hex(v.info)),
    'decap-failed',
  );
  assert.throws(
    () => createSuite({ kemId: 0x0010, kdfId: 1, aeadId: 1 }),
    (err: unknown) => err instanceof HpkeError && err.reason === 'unsupported-suite',
  );
});

test('a key from one KEM or backend is refused by another suite', async () => {
  const x = createSuite({ kemId: 0x20, kdfId: 1, aeadId: 1 });
  const w = createSuite({ kemId: 0x647a, kdfId: 1, aeadId: 1 });
  const web = createSuite({ kemId: 0x20, kdfId: 1, aeadId: 1 }, { backend: 'webcrypto' });
  const kp = await x.generateKeyPair();
  await assert.rejects(w.setupSender(kp.publicKey, new Uint8Array(0)), TypeError);
  await assert.rejects(web.setupSender(kp.publicKey, new Uint8Array(0)), TypeError);
  // The same key imported into a sibling suite (other AEAD) works: keys belong to the KEM.
  const chacha = createSuite({ kemId: 0x20, kdfId: 1, aeadId: 3 });
  const { enc, context } = await chacha.setupSender(kp.publicKey, new Uint8Array(0));
  const ct = await context.seal(new Uint8Array([1, 2, 3]));
  const opened = await (
    await chacha.setupRecipient(kp.privateKey, enc, new Uint8Array(0))
  ).open(ct);
  assert.deepEqual([...opened], [1, 2, 3]);
});
