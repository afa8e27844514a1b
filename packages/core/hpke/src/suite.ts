/**
 * An HPKE cipher suite (RFC 9180 §5) over panva's `hpke` library: the library runs the key
 * schedule and the contexts (sequence numbers, nonces, export); this package gives it
 * synchronous node:crypto KEMs, KDF and AEADs through the library's documented factories
 * (`CipherSuite(KEM, KDF, AEAD)`), and wraps its errors into `HpkeError`.
 *
 * Suites on offer (`backend: 'node'`, the default):
 *
 *   KEM   0x0020 DHKEM(X25519, HKDF-SHA256)        RFC 9180 §7.1
 *         0x647a X-Wing (MLKEM768-X25519)          draft-connolly-cfrg-xwing-kem, draft-ietf-hpke-pq §4
 *   KDF   0x0001 HKDF-SHA256                       RFC 9180 §7.2
 *   AEAD  0x0001 AES-128-GCM, 0x0003 ChaCha20-Poly1305   RFC 9180 §7.3
 *
 * `backend: 'webcrypto'` builds the same suites from the library's own WebCrypto factories.
 * It exists so the benchmark and the tests can compare against the library's default; the
 * relays use 'node'.
 *
 * Keys are imported once (`importPrivateKey`), which is where OpenSSL parses the key and the
 * public half is computed; every request then reuses that object. Keys belong to a KEM and a
 * backend, not to one suite: one gateway key serves all the KDF/AEAD pairs its key
 * configuration lists.
 */
import * as HPKE from 'hpke';
import {
  AEAD_AES_128_GCM_ID,
  AEAD_AES_128_GCM_NODE,
  AEAD_CHACHA20_POLY1305_ID,
  AEAD_CHACHA20_POLY1305_NODE,
  aes128Gcm,
  chacha20Poly1305,
  type SyncAead,
} from './aead.ts';
import type { Rng } from './bytes.ts';
import { dhkemX25519Node, KEM_DHKEM_X25519_HKDF_SHA256_ID } from './dhkem-x25519.ts';
import { HpkeError, type HpkeErrorReason } from './errors.ts';
import { hkdfSha256, KDF_HKDF_SHA256_ID, KDF_HKDF_SHA256_NODE, type SyncKdf } from './hkdf.ts';
import { KEM_XWING_ID, xwingNode } from './xwing.ts';

export interface SuiteIds {
  readonly kemId: number;
  readonly kdfId: number;
  readonly aeadId: number;
}

export type Backend = 'node' | 'webcrypto';

export interface SuiteOptions {
  /** 'node' (default): synchronous node:crypto. 'webcrypto': the library's own algorithms. */
  readonly backend?: Backend;
  /**
   * Randomness for generated keys and the ephemeral KEM key ('node' backend only). Tests
   * inject it to replay vectors; production leaves the default, crypto.getRandomValues.
   */
  readonly rng?: Rng;
}

export interface KemInfo {
  readonly id: number;
  readonly Nsecret: number;
  readonly Nenc: number;
  readonly Npk: number;
  readonly Nsk: number;
}

/** A private key ready for use: parsed once, with its public key alongside. */
export interface HpkePrivateKey {
  readonly kemId: number;
  readonly backend: Backend;
  /**
   * SerializePublicKey of the public half: the bytes a key configuration publishes. Empty for
   * a key imported with `importPrivateKey` on the 'webcrypto' backend, which cannot derive it
   * portably (keys from `generateKeyPair`/`deriveKeyPair` always have it).
   */
  readonly publicKey: Uint8Array;
}

export interface HpkePublicKey {
  readonly kemId: number;
  readonly backend: Backend;
  readonly publicKey: Uint8Array;
}

export interface HpkeKeyPair {
  readonly privateKey: HpkePrivateKey;
  readonly publicKey: HpkePublicKey;
  /** SerializePrivateKey, to store the key (Nsk bytes). */
  readonly privateKeyBytes: Uint8Array;
}

export interface SenderContext {
  /** ContextS.Seal (§5.2); each call advances the sequence number. */
  seal(plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /** Context.Export (§5.3). */
  export(exporterContext: Uint8Array, length: number): Promise<Uint8Array>;
}

export interface RecipientContext {
  /** ContextR.Open (§5.2); throws HpkeError('open-failed'). */
  open(ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  export(exporterContext: Uint8Array, length: number): Promise<Uint8Array>;
}

export interface SetupOptions {
  /** PSK mode (mode_psk, §5.1.2) when both are given; base mode otherwise. */
  readonly psk?: Uint8Array;
  readonly pskId?: Uint8Array;
}

export interface HpkeSuite {
  readonly ids: SuiteIds;
  readonly backend: Backend;
  readonly kem: KemInfo;
  /** The suite's KDF and AEAD as plain synchronous functions (OHTTP responses use them). */
  readonly kdf: SyncKdf;
  readonly aead: SyncAead;
  generateKeyPair(): Promise<HpkeKeyPair>;
  deriveKeyPair(ikm: Uint8Array): Promise<HpkeKeyPair>;
  importPrivateKey(bytes: Uint8Array): Promise<HpkePrivateKey>;
  importPublicKey(bytes: Uint8Array): Promise<HpkePublicKey>;
  setupSender(
    publicKey: HpkePublicKey,
    info: Uint8Array,
    options?: SetupOptions,
  ): Promise<{ enc: Uint8Array; context: SenderContext }>;
  setupRecipient(
    privateKey: HpkePrivateKey,
    enc: Uint8Array,
    info: Uint8Array,
    options?: SetupOptions,
  ): Promise<RecipientContext>;
}

export const KEM_X25519 = KEM_DHKEM_X25519_HKDF_SHA256_ID;
export const KEM_XWING = KEM_XWING_ID;
export const KDF_HKDF_SHA256 = KDF_HKDF_SHA256_ID;
export const AEAD_AES_128_GCM = AEAD_AES_128_GCM_ID;
export const AEAD_CHACHA20_POLY1305 = AEAD_CHACHA20_POLY1305_ID;

export function isSupportedSuite(ids: SuiteIds): boolean {
  return (
    (ids.kemId === KEM_X25519 || ids.kemId === KEM_XWING) &&
    ids.kdfId === KDF_HKDF_SHA256 &&
    (ids.aeadId === AEAD_AES_128_GCM || ids.aeadId === AEAD_CHACHA20_POLY1305)
  );
}

/** What the library knows the key by; kept out of the public interfaces above. */
interface KeyHandles {
  readonly pair?: HPKE.KeyPair;
  readonly key: HPKE.Key;
}
const handles = new WeakMap<object, KeyHandles>();

function handleOf(
  key: HpkePrivateKey | HpkePublicKey,
  kemId: number,
  backend: Backend,
): KeyHandles {
  const h = handles.get(key);
  if (h === undefined || key.kemId !== kemId || key.backend !== backend) {
    throw new TypeError('key does not belong to this suite (KEM or backend differs)');
  }
  return h;
}

/** The library's error classes mapped onto this package's reasons; anything else is rethrown. */
function translate(err: unknown, fallback: HpkeErrorReason): never {
  if (err instanceof HpkeError) throw err;
  if (err instanceof HPKE.OpenError) throw new HpkeError('open-failed', { cause: err });
  if (err instanceof HPKE.DecapError) throw new HpkeError('decap-failed', { cause: err });
  if (err instanceof HPKE.DeserializeError) throw new HpkeError('invalid-key', { cause: err });
  if (err instanceof HPKE.MessageLimitReachedError) {
    throw new HpkeError('message-limit', { cause: err });
  }
  if (err instanceof HPKE.EncapError || err instanceof HPKE.ValidationError) {
    throw new HpkeError(fallback, { cause: err });
  }
  throw err;
}

function factories(ids: SuiteIds, backend: Backend, rng: Rng | undefined) {
  if (!isSupportedSuite(ids)) throw new HpkeError('unsupported-suite');
  if (backend === 'node') {
    // Only an injected rng is passed on: without one, X25519 uses OpenSSL's DHKEM.
    const kemOptions = rng === undefined ? {} : { rng };
    return {
      kem: ids.kemId === KEM_X25519 ? dhkemX25519Node(kemOptions) : xwingNode(kemOptions),
      kdf: KDF_HKDF_SHA256_NODE,
      aead: ids.aeadId === AEAD_AES_128_GCM ? AEAD_AES_128_GCM_NODE : AEAD_CHACHA20_POLY1305_NODE,
    };
  }
  return {
    kem: ids.kemId === KEM_X25519 ? HPKE.KEM_DHKEM_X25519_HKDF_SHA256 : HPKE.KEM_MLKEM768_X25519,
    kdf: HPKE.KDF_HKDF_SHA256,
    aead: ids.aeadId === AEAD_AES_128_GCM ? HPKE.AEAD_AES_128_GCM : HPKE.AEAD_ChaCha20Poly1305,
  };
}

export function createSuite(ids: SuiteIds, options: SuiteOptions = {}): HpkeSuite {
  const backend = options.backend ?? 'node';
  const f = factories(ids, backend, options.rng);
  const suite = new HPKE.CipherSuite(f.kem as HPKE.KEMFactory, f.kdf, f.aead);
  const nodeKem = backend === 'node' ? (f.kem as HPKE.KEMFactory)() : undefined;
  const frozenIds = Object.freeze({ kemId: ids.kemId, kdfId: ids.kdfId, aeadId: ids.aeadId });
  const kem: KemInfo = Object.freeze({ ...suite.KEM });
  const aead = ids.aeadId === AEAD_AES_128_GCM ? aes128Gcm : chacha20Poly1305;

  function wrapPair(pair: HPKE.KeyPair, publicKey: Uint8Array, privateKeyBytes: Uint8Array) {
    const priv: HpkePrivateKey = Object.freeze({ kemId: ids.kemId, backend, publicKey });
    const pub: HpkePublicKey = Object.freeze({ kemId: ids.kemId, backend, publicKey });
    handles.set(priv, { pair, key: pair.privateKey });
    handles.set(pub, { key: pair.publicKey });
    return Object.freeze({ privateKey: priv, publicKey: pub, privateKeyBytes });
  }

  async function fromPair(pair: HPKE.KeyPair): Promise<HpkeKeyPair> {
    const [pk, sk] = await Promise.all([
      suite.SerializePublicKey(pair.publicKey),
      suite.SerializePrivateKey(pair.privateKey),
    ]);
    return wrapPair(pair, pk, sk);
  }

  return Object.freeze({
    ids: frozenIds,
    backend,
    kem,
    kdf: hkdfSha256,
    aead,
    async generateKeyPair() {
      return fromPair(await suite.GenerateKeyPair(true));
    },
    async deriveKeyPair(ikm: Uint8Array) {
      try {
        return await fromPair(await suite.DeriveKeyPair(ikm, true));
      } catch (err) {
        translate(err, 'invalid-key');
      }
    },
    async importPrivateKey(bytes: Uint8Array) {
      try {
        const privateKey = await suite.DeserializePrivateKey(bytes, true);
        // The public half comes from the private key itself: for the node KEMs it was
        // computed while importing; for WebCrypto, DeriveKeyPair-free getPublicKey is not
        // portable, so the library derives it when it needs it (pkR is then undefined).
        let publicKey: Uint8Array = new Uint8Array(0);
        let pair: HPKE.KeyPair | undefined;
        if (nodeKem !== undefined) {
          // Our KEMs serialize a private key's public half (the library's CipherSuite only
          // takes public keys there, so this goes to the KEM directly).
          publicKey = await nodeKem.SerializePublicKey(privateKey);
          pair = { privateKey, publicKey: await suite.DeserializePublicKey(publicKey) };
        }
        const priv: HpkePrivateKey = Object.freeze({ kemId: ids.kemId, backend, publicKey });
        handles.set(priv, pair === undefined ? { key: privateKey } : { pair, key: privateKey });
        return priv;
      } catch (err) {
        translate(err, 'invalid-key');
      }
    },
    async importPublicKey(bytes: Uint8Array) {
      try {
        const key = await suite.DeserializePublicKey(bytes);
        const pub: HpkePublicKey = Object.freeze({
          kemId: ids.kemId,
          backend,
          publicKey: bytes.slice(),
        });
        handles.set(pub, { key });
        return pub;
      } catch (err) {
        translate(err, 'invalid-key');
      }
    },
    async setupSender(publicKey: HpkePublicKey, info: Uint8Array, setup?: SetupOptions) {
      const h = handleOf(publicKey, ids.kemId, backend);
      try {
        const { encapsulatedSecret, ctx } = await suite.SetupSender(h.key, {
          info,
          ...(setup?.psk === undefined ? {} : { psk: setup.psk, pskId: setup.pskId }),
        });
        const context: SenderContext = Object.freeze({
          async seal(plaintext: Uint8Array, aad?: Uint8Array) {
            try {
              return await ctx.Seal(plaintext, aad);
            } catch (err) {
              translate(err, 'message-limit');
            }
          },
          async export(exporterContext: Uint8Array, length: number) {
            return ctx.Export(exporterContext, length);
          },
        });
        return { enc: encapsulatedSecret, context };
      } catch (err) {
        translate(err, 'invalid-key');
      }
    },
    async setupRecipient(
      privateKey: HpkePrivateKey,
      enc: Uint8Array,
      info: Uint8Array,
      setup?: SetupOptions,
    ) {
      const h = handleOf(privateKey, ids.kemId, backend);
      try {
        const ctx = await suite.SetupRecipient(h.pair ?? h.key, enc, {
          info,
          ...(setup?.psk === undefined ? {} : { psk: setup.psk, pskId: setup.pskId }),
        });
        const context: RecipientContext = Object.freeze({
          async open(ciphertext: Uint8Array, aad?: Uint8Array) {
            try {
              return await ctx.Open(ciphertext, aad);
            } catch (err) {
              translate(err, 'open-failed');
            }
          },
          async export(exporterContext: Uint8Array, length: number) {
            return ctx.Export(exporterContext, length);
          },
        });
        return context;
      } catch (err) {
        translate(err, 'decap-failed');
      }
    },
  });
}
