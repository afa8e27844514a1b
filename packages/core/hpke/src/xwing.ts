/**
 * X-Wing, the ML-KEM-768 + X25519 hybrid KEM (draft-connolly-cfrg-xwing-kem), as HPKE KEM
 * 0x647a (draft-ietf-hpke-pq §4, where it is listed as MLKEM768-X25519), on node:crypto:
 * ML-KEM-768 through `crypto.encapsulate`/`decapsulate`, X25519 through `diffieHellman`,
 * SHAKE256 and SHA3-256 through `createHash`.
 *
 *   Nsecret = 32, Nenc = 1120 (ct_M 1088 || ct_X 32), Npk = 1216 (pk_M 1184 || pk_X 32),
 *   Nsk = 32 (the seed)
 *
 *   expandDecapsulationKey(seed):  e = SHAKE256(seed, 96)
 *                                  (pk_M, sk_M) = ML-KEM-768.KeyGen(d = e[0:32], z = e[32:64])
 *                                  sk_X = e[64:96], pk_X = X25519(sk_X, 9)
 *   Encap(pk):     (ss_M, ct_M) = ML-KEM-768.Encaps(pk_M); ek_X random; ct_X = X25519(ek_X, 9)
 *                  ss_X = X25519(ek_X, pk_X)
 *   Combiner:      SHA3-256(ss_M || ss_X || ct_X || pk_X || "\.//^\")
 *   DeriveKeyPair: seed = LabeledDerive(SHAKE256, ikm, "DeriveKeyPair", "", 32)
 *
 * The seed is expanded once, when a private key is deserialized, so a gateway's per-request
 * work is one ML-KEM decapsulation, one X25519 and one SHA3-256. The `rng` drives key
 * generation and the X25519 ephemeral; OpenSSL's ML-KEM encapsulation draws its own
 * randomness, so Encap cannot replay a test vector (Decap and DeriveKeyPair can, and do).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  decapsulate,
  encapsulate,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { KEM, KEMFactory, KeyPair } from 'hpke';
import { ascii, concat, systemRng, view } from './bytes.ts';
import {
  importX25519Private,
  importX25519Public,
  x25519,
  x25519PublicBytes,
  type NodeKemOptions,
} from './dhkem-x25519.ts';
import { makeKey, materialOf, type NodeKemKey } from './kem-key.ts';
import { kemSuiteId, labeledDeriveShake256 } from './labeled.ts';

export const KEM_XWING_ID = 0x647a;
const NAME = 'X-Wing';
const SUITE_ID = kemSuiteId(KEM_XWING_ID);
const XWING_LABEL = Uint8Array.of(0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c); // "\.//^\"
const L_DERIVE_KEY_PAIR = ascii('DeriveKeyPair');
const EMPTY = new Uint8Array(0);
const PK_M = 1184;
const CT_M = 1088;

function importMlKem768Public(pk: Uint8Array): KeyObject {
  return createPublicKey({ key: pk, format: 'raw-public', asymmetricKeyType: 'ml-kem-768' });
}

function importMlKem768Seed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: seed, format: 'raw-seed', asymmetricKeyType: 'ml-kem-768' });
}

function privateKey(seed: Uint8Array, extractable: boolean): NodeKemKey {
  const e = view(createHash('shake256', { outputLength: 96 }).update(seed).digest());
  const mlkem = importMlKem768Seed(e.subarray(0, 64));
  const x = importX25519Private(e.subarray(64, 96));
  const pkM = view(createPublicKey(mlkem).export({ format: 'raw-public' }));
  const pkX = x25519PublicBytes(x);
  return makeKey(NAME, 'private', extractable, {
    mlkem,
    x25519: x,
    x25519Public: pkX,
    publicBytes: concat(pkM, pkX),
    privateBytes: seed.slice(),
  });
}

function publicKey(pk: Uint8Array): NodeKemKey {
  return makeKey(NAME, 'public', true, {
    mlkem: importMlKem768Public(pk.subarray(0, PK_M)),
    x25519: importX25519Public(pk.subarray(PK_M)),
    x25519Public: pk.slice(PK_M),
    publicBytes: pk.slice(),
  });
}

function pairFrom(seed: Uint8Array, extractable: boolean): KeyPair<NodeKemKey> {
  const priv = privateKey(seed, extractable);
  return { privateKey: priv, publicKey: publicKey(materialOf(priv, NAME).publicBytes) };
}

function combiner(ssM: Uint8Array, ssX: Uint8Array, ctX: Uint8Array, pkX: Uint8Array): Uint8Array {
  return view(
    createHash('sha3-256')
      .update(ssM)
      .update(ssX)
      .update(ctX)
      .update(pkX)
      .update(XWING_LABEL)
      .digest(),
  );
}

export function xwingNode(options: NodeKemOptions = {}): KEMFactory<NodeKemKey> {
  const rng = options.rng ?? systemRng;
  return function (): KEM<NodeKemKey> {
    return {
      id: KEM_XWING_ID,
      type: 'KEM',
      name: 'X-Wing',
      Nsecret: 32,
      Nenc: 1120,
      Npk: 1216,
      Nsk: 32,
      async DeriveKeyPair(ikm, extractable) {
        const seed = labeledDeriveShake256(SUITE_ID, ikm, L_DERIVE_KEY_PAIR, EMPTY, 32);
        return pairFrom(seed, extractable);
      },
      async GenerateKeyPair(extractable) {
        return pairFrom(rng(32), extractable);
      },
      async SerializePublicKey(key) {
        return materialOf(key, NAME).publicBytes.slice();
      },
      async DeserializePublicKey(key) {
        return publicKey(key);
      },
      async SerializePrivateKey(key) {
        const bytes = materialOf(key, NAME).privateBytes;
        if (bytes === undefined) throw new TypeError('not a private key');
        return bytes.slice();
      },
      async DeserializePrivateKey(key, extractable) {
        return privateKey(key, extractable);
      },
      async Encap(pkR) {
        const recipient = materialOf(pkR, NAME);
        const { sharedKey, ciphertext } = encapsulate(recipient.mlkem as KeyObject);
        const ekX = importX25519Private(rng(32));
        const ctX = x25519PublicBytes(ekX);
        const ssX = x25519(ekX, recipient.x25519 as KeyObject);
        const pkX = recipient.x25519Public as Uint8Array;
        return {
          shared_secret: combiner(view(sharedKey), ssX, ctX, pkX),
          enc: concat(view(ciphertext), ctX),
        };
      },
      async Decap(enc, skR) {
        const recipient = materialOf(skR, NAME);
        const ctX = enc.subarray(CT_M);
        const ssM = view(decapsulate(recipient.mlkem as KeyObject, enc.subarray(0, CT_M)));
        const ssX = x25519(recipient.x25519 as KeyObject, importX25519Public(ctX));
        return combiner(ssM, ssX, ctX, recipient.x25519Public as Uint8Array);
      },
    };
  };
}
