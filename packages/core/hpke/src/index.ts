export { HpkeError, isHpkeError, type HpkeErrorReason } from './errors.ts';
export {
  createSuite,
  isSupportedSuite,
  KEM_X25519,
  KEM_XWING,
  KDF_HKDF_SHA256,
  AEAD_AES_128_GCM,
  AEAD_CHACHA20_POLY1305,
  type Backend,
  type HpkeKeyPair,
  type HpkePrivateKey,
  type HpkePublicKey,
  type HpkeSuite,
  type KemInfo,
  type RecipientContext,
  type SenderContext,
  type SetupOptions,
  type SuiteIds,
  type SuiteOptions,
} from './suite.ts';
export { hkdfSha256, type SyncKdf } from './hkdf.ts';
export { aes128Gcm, chacha20Poly1305, type SyncAead } from './aead.ts';
export { systemRng, type Rng } from './bytes.ts';
