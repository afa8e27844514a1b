/**
 * DHKEM(X25519, HKDF-SHA256), KEM 0x0020 (RFC 9180 §4.1, §7.1) on node:crypto.
 *
 *   Nsecret = 32, Nenc = 32, Npk = 32, Nsk = 32
 *   DeriveKeyPair(ikm):  dkp_prk = LabeledExtract("", "dkp_prk", ikm)
 *                        sk = LabeledExpand(dkp_prk, "sk", "", 32)           (§7.1.3)
 *   Encap(pkR):          skE random; dh = X25519(skE, pkR); enc = pkE
 *                        shared_secret = ExtractAndExpand(dh, enc || pkRm)   (§4.1)
 *   ExtractAndExpand:    eae_prk = LabeledExtract("", "eae_prk", dh)
 *                        LabeledExpand(eae_prk, "shared_secret", kem_context, 32)
 *
 * The ephemeral private key is 32 bytes from the injected `rng`, used as the X25519 scalar
 * directly (any 32 bytes is a valid X25519 private key, RFC 7748 §5); a test that returns a
 * vector's `skEm` from `rng` reproduces its `enc` exactly. An all-zero DH output (a
 * small-order peer key) fails as RFC 9180 §7.1.4 requires; OpenSSL refuses it as well.
 */
import {
  createPrivateKey,
  createPublicKey,
  decapsulate,
  diffieHellman,
  encapsulate,
  type KeyObject,
} from 'node:crypto';
import type { KEM, KEMFactory, KeyPair } from 'hpke';
import { ascii, concat, systemRng, view, type Rng } from './bytes.ts';
import { makeKey, materialOf, type NodeKemKey } from './kem-key.ts';
import { kemSuiteId, labeledExpand, labeledExtract } from './labeled.ts';

export const KEM_DHKEM_X25519_HKDF_SHA256_ID = 0x0020;
const NAME = 'X25519';
const SUITE_ID = kemSuiteId(KEM_DHKEM_X25519_HKDF_SHA256_ID);
const EMPTY = new Uint8Array(0);
const L_DKP_PRK = ascii('dkp_prk');
const L_SK = ascii('sk');
const L_EAE_PRK = ascii('eae_prk');
const L_SHARED_SECRET = ascii('shared_secret');

export function importX25519Private(sk: Uint8Array): KeyObject {
  return createPrivateKey({ key: sk, format: 'raw-private', asymmetricKeyType: 'x25519' });
}

export function importX25519Public(pk: Uint8Array): KeyObject {
  return createPublicKey({ key: pk, format: 'raw-public', asymmetricKeyType: 'x25519' });
}

export function x25519PublicBytes(privateKey: KeyObject): Uint8Array {
  return view(createPublicKey(privateKey).export({ format: 'raw-public' }));
}

/** X25519(sk, pk), refusing the all-zero output of a small-order point (RFC 9180 §7.1.4). */
export function x25519(privateKey: KeyObject, publicKey: KeyObject): Uint8Array {
  const dh = view(diffieHellman({ privateKey, publicKey }));
  let acc = 0;
  for (const b of dh) acc |= b;
  if (acc === 0) throw new Error('X25519 produced the all-zero value');
  return dh;
}

function privateKey(sk: Uint8Array, extractable: boolean): NodeKemKey {
  const x = importX25519Private(sk);
  return makeKey(NAME, 'private', extractable, {
    x25519: x,
    publicBytes: x25519PublicBytes(x),
    privateBytes: sk.slice(),
  });
}

function publicKey(pk: Uint8Array): NodeKemKey {
  return makeKey(NAME, 'public', true, { x25519: importX25519Public(pk), publicBytes: pk.slice() });
}

function pairFrom(sk: Uint8Array, extractable: boolean): KeyPair<NodeKemKey> {
  const priv = privateKey(sk, extractable);
  return { privateKey: priv, publicKey: publicKey(materialOf(priv, NAME).publicBytes) };
}

function extractAndExpand(dh: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const eaePrk = labeledExtract(SUITE_ID, EMPTY, L_EAE_PRK, dh);
  return labeledExpand(SUITE_ID, eaePrk, L_SHARED_SECRET, kemContext, 32);
}

export interface NodeKemOptions {
  /** Randomness for key generation and the ephemeral key. Default: crypto.getRandomValues. */
  readonly rng?: Rng;
  /** X25519 only: use OpenSSL's DHKEM for Encap/Decap. Default: when no rng is injected. */
  readonly native?: boolean;
}

export function dhkemX25519Node(options: NodeKemOptions = {}): KEMFactory<NodeKemKey> {
  const rng = options.rng ?? systemRng;
  // With the system's randomness, Encap and Decap are OpenSSL's own RFC 9180 DHKEM (one native
  // call each, no JavaScript HKDF). An injected rng needs the ephemeral key to come from it,
  // so that path (and the tests that replay vectors) uses the step-by-step version below;
  // `native: false` forces it, which the tests use to check both against the RFC.
  const native = options.native ?? options.rng === undefined;
  return function (): KEM<NodeKemKey> {
    return {
      id: KEM_DHKEM_X25519_HKDF_SHA256_ID,
      type: 'KEM',
      name: 'DHKEM(X25519, HKDF-SHA256)',
      Nsecret: 32,
      Nenc: 32,
      Npk: 32,
      Nsk: 32,
      async DeriveKeyPair(ikm, extractable) {
        const dkpPrk = labeledExtract(SUITE_ID, EMPTY, L_DKP_PRK, ikm);
        return pairFrom(labeledExpand(SUITE_ID, dkpPrk, L_SK, EMPTY, 32), extractable);
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
        if (native) {
          const { sharedKey, ciphertext } = encapsulate(recipient.x25519 as KeyObject);
          return { shared_secret: view(sharedKey), enc: view(ciphertext) };
        }
        const skE = importX25519Private(rng(32));
        const enc = x25519PublicBytes(skE);
        const dh = x25519(skE, recipient.x25519 as KeyObject);
        return {
          shared_secret: extractAndExpand(dh, concat(enc, recipient.publicBytes)),
          enc,
        };
      },
      async Decap(enc, skR) {
        const recipient = materialOf(skR, NAME);
        if (native) return view(decapsulate(recipient.x25519 as KeyObject, enc));
        const dh = x25519(recipient.x25519 as KeyObject, importX25519Public(enc));
        return extractAndExpand(dh, concat(enc, recipient.publicBytes));
      },
    };
  };
}
